// Source databases for `gatehouse import`, with the schemas of the systems it imports from and
// hashes made by their real producers (tests/support/make_hashes.py):
//   rust-auth  PostgreSQL: users + user_profile as rust-auth's migration creates them (a
//              `phone` domain, uuid ids, timestamptz date_joined, a thumbnail URL)
//   django     users_user + user_profile as Django 3.2 creates them for a custom user model with
//              the email as its login (integer ids on SQLite, uuid ids on PostgreSQL, or Django's
//              32-hex-digit uuid text on SQLite)
// makeSource() describes the accounts — ordinary ones of every hash scheme, and the edge cases:
// addresses two rows share in another case, an invalid address, an address gatehouse already
// has, unusable `!` hashes, PBKDF2 iterations beyond the bounds, an unknown scheme, names and
// profile fields gatehouse refuses, staff — and expected() says what the import must report.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { produceHashList } from './legacy_hashes.js';
import { PG_BIN } from './postgres.js';

/** Hashes each kind's accounts get, in turn: [name in the report, producer spec, reset reason]. */
const POOLS = {
  django: [
    ['pbkdf2_sha256', { producer: 'django', hasher: 'pbkdf2_sha256', iterations: 1000 }],
    ['pbkdf2_sha256', { producer: 'django', hasher: 'pbkdf2_sha256', iterations: 20000 }],
    ['pbkdf2_sha1', { producer: 'django', hasher: 'pbkdf2_sha1', iterations: 1500 }],
    ['django_argon2', { producer: 'django', hasher: 'argon2' }],
    ['pbkdf2_sha256', { producer: 'passlib', hasher: 'django_pbkdf2_sha256', iterations: 2000 }],
    ['argon2', { producer: 'passlib', hasher: 'argon2', t: 2, m: 8192, p: 2 }],
    ['pbkdf2_sha256', { producer: 'django', hasher: 'pbkdf2_sha256', iterations: 3000 }],
    ['pbkdf2_sha1', { producer: 'passlib', hasher: 'django_pbkdf2_sha1', iterations: 2500 }],
  ],
  'rust-auth': [
    // rust-auth hashes with the argon2 crate's defaults: Argon2id v=19, m=19456, t=2, p=1,
    // 16-byte salt, 32-byte hash — made here by argon2-cffi with the same parameters
    ['argon2', { producer: 'argon2-cffi', t: 2, m: 19456, p: 1, hash_len: 32 }],
    ['argon2', { producer: 'argon2-cffi', t: 2, m: 19456, p: 1, hash_len: 32 }],
    ['argon2', { producer: 'argon2-cffi', t: 3, m: 12288, p: 2, hash_len: 32 }],
    ['argon2', { producer: 'passlib', hasher: 'argon2', t: 2, m: 8192, p: 4 }],
  ],
};

const EDGE_HASHES = {
  unusable: ['unusable', { producer: 'django', hasher: 'unusable' }, 'unusable_password'],
  tooFew: ['pbkdf2_sha256', { producer: 'django', hasher: 'pbkdf2_sha256', iterations: 999 }, 'hash_parameters_out_of_bounds'],
  tooMany: ['pbkdf2_sha256', { producer: 'django', hasher: 'pbkdf2_sha256', iterations: 2000001 }, 'hash_parameters_out_of_bounds'],
  md5: ['unknown', { producer: 'django', hasher: 'md5' }, 'unknown_hash_scheme'],
};

const pad = (n) => String(n).padStart(5, '0');

/**
 * The accounts of a source: {kind, ids ('int' | 'uuid' | 'hex'), users, existing}. `existing` is
 * an address the gatehouse under test must have before the import (a row of the source has it in
 * capitals). n: about how many accounts.
 */
export function makeSource(kind, { n = 1000, ids = kind === 'rust-auth' ? 'uuid' : 'int', tag = randomUUID().slice(0, 8) } = {}) {
  const pool = POOLS[kind];
  const users = [];
  let next = 1;
  const id = () => (ids === 'int' ? String(next++) : ids === 'hex' ? randomUUID().replace(/-/g, '').toUpperCase() : randomUUID());
  const base = (i, email, extra = {}) => ({
    id: id(), email, hashIndex: i % pool.length, first_name: `First${i}`, last_name: `Last${i}`,
    is_active: i % 17 !== 0, is_staff: false, is_superuser: false, date_joined: 1600000000 + i * 3600,
    profile: i % 5 === 4 ? null : { phone: `+1555${pad(i)}00`, birth: `19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`, github: `https://github.com/user${i}` },
    thumbnail: kind === 'rust-auth' && i % 10 === 3 ? `https://bucket.example.com/avatars/${i}.png` : null,
    ...extra,
  });
  for (let i = 0; i < n - 20; i++) users.push(base(i, `user${pad(i)}-${tag}@example.com`));
  // staff: dropped unless --keep-staff
  users[1].is_staff = true;
  users[2].is_staff = true;
  users[2].is_superuser = true;
  // names and profile fields gatehouse refuses: dropped, reported
  users[5].first_name = 'Bad\u0001Name';
  users[6].profile = { phone: kind === 'rust-auth' ? null : '12345', birth: '2999-01-01', github: 'http://github.com/plain' };
  users[7].profile = { phone: null, birth: null, github: 'ftp://github.com/files' };
  // addresses two rows share in another case: both skipped, never merged
  users.push(base(n, `Dup1-${tag}@Example.com`), base(n + 1, `dup1-${tag}@example.com`));
  users.push(base(n + 2, `DUP2-${tag}@example.com`), base(n + 3, `Dup2-${tag}@example.COM`));
  // the same once trimmed of whitespace (a tab is whitespace too)
  users.push(base(n + 20, ` dup3-${tag}@example.com\t`), base(n + 21, `DUP3-${tag}@example.com`));
  // an invalid address
  users.push(base(n + 4, 'not an address'));
  // an address gatehouse has already (in capitals here)
  const existing = `existing-${tag}@example.com`;
  users.push(base(n + 5, existing.toUpperCase()));
  // passwords that need a reset
  const edges = kind === 'django' ? ['unusable', 'unusable', 'tooFew', 'tooMany', 'md5'] : ['tooFew', 'md5'];
  edges.forEach((e, k) => users.push(base(n + 6 + k, `edge${k}-${e}-${tag}@example.com`, { edge: e })));
  return { kind, ids, users, existing, tag };
}

/** Fills in hash and password of every account (one producer call for the whole pool). */
export function hashSource(src) {
  const pool = POOLS[src.kind];
  const items = pool.map(([, spec], k) => ({ password: `imported password ${src.kind} ${k} ${src.tag}`, spec }));
  const edgeNames = Object.keys(EDGE_HASHES);
  for (const e of edgeNames) items.push({ password: `edge password ${e} ${src.tag}`, spec: EDGE_HASHES[e][1] });
  const hashes = produceHashList(items);
  for (const u of src.users) {
    if (u.edge) {
      const k = pool.length + edgeNames.indexOf(u.edge);
      u.password = items[k].password;
      u.hash = hashes[k];
      [u.scheme, , u.reset] = EDGE_HASHES[u.edge];
    } else {
      u.password = items[u.hashIndex].password;
      u.hash = hashes[u.hashIndex];
      [u.scheme] = pool[u.hashIndex];
    }
  }
  return src;
}

const lowerTrim = (e) => e.trim().toLowerCase();

/** What importing src into a gatehouse that has src.existing must report (opts.keepStaff). */
export function expected(src, { keepStaff = false, second = false } = {}) {
  const counts = new Map();
  for (const u of src.users) counts.set(lowerTrim(u.email), (counts.get(lowerTrim(u.email)) || 0) + 1);
  const r = {
    read: src.users.length, imported: 0, skipped_reasons: {}, hash_schemes: {}, resets: {}, resets_total: 0,
    fields_dropped: {}, staff: { dropped: 0, kept: 0 }, ids: { kept_uuid: 0, new_uuid: 0 }, importedUsers: [],
  };
  const bump = (o, k) => { o[k] = (o[k] || 0) + 1; };
  for (const u of src.users) {
    let reason = null;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(u.email.trim())) reason = 'invalid_email';
    else if (counts.get(lowerTrim(u.email)) > 1) reason = 'duplicate_email_in_source';
    else if (lowerTrim(u.email) === src.existing) reason = 'email_exists';
    else if (second) reason = 'already_imported';
    if (reason) { bump(r.skipped_reasons, reason); continue; }
    r.imported++;
    r.importedUsers.push(u);
    bump(r.hash_schemes, u.scheme);
    if (u.reset) { bump(r.resets, u.reset); r.resets_total++; }
    if (u.first_name.includes('\u0001')) bump(r.fields_dropped, 'first_name');
    if (u.profile) {
      if (u.profile.phone && !/^\+\d{8,18}$/.test(u.profile.phone)) bump(r.fields_dropped, 'phone_number');
      if (u.profile.birth && u.profile.birth > '2100') bump(r.fields_dropped, 'birth_date');
      if (u.profile.github && !u.profile.github.startsWith('https://')) bump(r.fields_dropped, 'github_link');
    }
    if (u.thumbnail) bump(r.fields_dropped, 'thumbnail');
    if (u.is_staff || u.is_superuser) { if (keepStaff) r.staff.kept++; else r.staff.dropped++; }
    if (src.ids === 'int') r.ids.new_uuid++; else r.ids.kept_uuid++;
  }
  return r;
}

// ---------------------------------------------------------------- writing the databases

const q = (v) => (v === null || v === undefined ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);
const isoUtc = (s) => new Date(s * 1000).toISOString().replace('T', ' ').replace('Z', '');

const DJANGO_SQLITE = (ids) => `
CREATE TABLE "users_user" ("id" ${ids === 'int' ? 'integer NOT NULL PRIMARY KEY AUTOINCREMENT' : 'char(32) NOT NULL PRIMARY KEY'}, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "email" varchar(254) NOT NULL UNIQUE);
CREATE TABLE "user_profile" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "phone_number" varchar(20) NULL, "birth_date" date NULL, "github_link" varchar(200) NULL, "user_id" ${ids === 'int' ? 'bigint' : 'char(32)'} NOT NULL UNIQUE REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
`;

const DJANGO_PG = `
CREATE TABLE "users_user" ("id" uuid NOT NULL PRIMARY KEY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL, "email" varchar(254) NOT NULL UNIQUE);
CREATE TABLE "user_profile" ("id" bigserial NOT NULL PRIMARY KEY, "phone_number" varchar(20) NULL, "birth_date" date NULL, "github_link" varchar(200) NULL, "user_id" uuid NOT NULL UNIQUE REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
`;

// rust-auth's tables as its migration defines them (uuid ids, a phone domain of '+' and 8 to 18
// digits, a thumbnail URL, timestamptz date_joined).
const RUST_AUTH_PG = `
CREATE TABLE users (id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL UNIQUE, password text NOT NULL, first_name text NOT NULL, last_name text NOT NULL, is_active boolean DEFAULT false, is_staff boolean DEFAULT false, is_superuser boolean DEFAULT false, thumbnail text NULL, date_joined timestamptz NOT NULL DEFAULT now());
CREATE DOMAIN phone AS text CHECK (octet_length(VALUE) BETWEEN 9 AND 19 AND VALUE ~ '^\\+\\d+$');
CREATE TABLE user_profile (id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE, phone_number phone NULL, birth_date date NULL, github_link text NULL);
`;

/** The SQL that creates and fills src: dialect 'sqlite' or 'postgres'. */
export function sourceSql(src, dialect) {
  const lines = [];
  const bool = (b) => (dialect === 'sqlite' ? (b ? 1 : 0) : b ? 'true' : 'false');
  if (src.kind === 'rust-auth') lines.push(RUST_AUTH_PG);
  else lines.push(dialect === 'sqlite' ? DJANGO_SQLITE(src.ids) : DJANGO_PG);
  lines.push('BEGIN;');
  const table = src.kind === 'rust-auth' ? 'users' : 'users_user';
  for (const u of src.users) {
    const joined = dialect === 'sqlite' ? q(`${isoUtc(u.date_joined)}000`) : `to_timestamp(${u.date_joined})`;
    if (src.kind === 'rust-auth') {
      lines.push(`INSERT INTO users (id, email, password, first_name, last_name, is_active, is_staff, is_superuser, thumbnail, date_joined) VALUES (${q(u.id)}, ${q(u.email)}, ${q(u.hash)}, ${q(u.first_name)}, ${q(u.last_name)}, ${bool(u.is_active)}, ${bool(u.is_staff)}, ${bool(u.is_superuser)}, ${q(u.thumbnail)}, ${joined});`);
    } else {
      lines.push(`INSERT INTO ${table} (id, password, last_login, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email) VALUES (${q(u.id)}, ${q(u.hash)}, NULL, ${bool(u.is_superuser)}, ${q(u.first_name)}, ${q(u.last_name)}, ${bool(u.is_staff)}, ${bool(u.is_active)}, ${joined}, ${q(u.email)});`);
    }
    if (u.profile) {
      lines.push(`INSERT INTO user_profile (user_id, phone_number, birth_date, github_link) VALUES (${q(u.id)}, ${q(u.profile.phone)}, ${q(u.profile.birth)}, ${q(u.profile.github)});`);
    }
  }
  lines.push('COMMIT;');
  return lines.join('\n');
}

/** Writes src into a new SQLite file; returns its path. */
export function writeSqliteSource(src, dir, name = 'source.sqlite3') {
  const path = join(dir, name);
  execFileSync('sqlite3', [path], { input: sourceSql(src, 'sqlite'), maxBuffer: 256 * 1024 * 1024 });
  return path;
}

/** Writes src into the (new, empty) PostgreSQL database at url. */
export function writePostgresSource(src, url) {
  execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], { input: sourceSql(src, 'postgres'), maxBuffer: 256 * 1024 * 1024 });
}
