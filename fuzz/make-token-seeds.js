#!/usr/bin/env node
// Writes the seed corpus of the token harness (fuzz/token.c) into fuzz/corpus/token/: tokens
// signed with the harness's fixed keys — valid ones, and the forgeries a verifier must refuse —
// in each of the harness's input modes, and form-encoded credentials. Run it again after
// changing the harness's keys or modes; the files are committed, so fuzzing never depends on
// this script.
//
//   node fuzz/make-token-seeds.js
import { createPrivateKey, createPublicKey, createHmac, sign } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), 'corpus', 'token');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) rmSync(join(out, f));

// The keys of fuzz/token.c.
const KEYS = {
  ES256: {
    kid: 'fuzz-es256',
    key: createPrivateKey({ key: Buffer.from('MHcCAQEEIDpifT2f8n5CjhHfiElwqpVUupNLy2kahJqLCG+Fs2dXoAoGCCqGSM49AwEHoUQDQgAEJP/ZtNAZKm7DwdPnb6Kc8OZA8vRzU2L0sJdLaez2urw2rFtfoQVkfSMmsdq9qdwWsfDkDZrLxK6koI2RsiE/wQ==', 'base64'), format: 'der', type: 'sec1' }),
    mode: (m) => String(m), // the first byte: '0' '1' '2' '3'
  },
  EdDSA: {
    kid: 'fuzz-eddsa',
    key: createPrivateKey({ key: Buffer.from('MC4CAQAwBQYDK2VwBCIEICRXYPpusOSJEzlC+T+m7UMogY20pQsc2//PaCMsc1Zk', 'base64'), format: 'der', type: 'pkcs8' }),
    mode: (m) => String(m + 4), // '4' '5' '6'
  },
};

const b64 = (b) => Buffer.from(b).toString('base64url');
const now = 1767225600;
const claims = {
  iss: 'http://gatehouse.fuzz', sub: '6f7a7a00-0000-4000-8000-00000000f022', aud: 'http://gatehouse.fuzz',
  iat: now, nbf: now, exp: now + 300, jti: '6f7a7a00-0000-4000-8000-0000000000a1', token_type: 'access',
  email: 'fuzz@example.com', is_staff: false,
};

function signature(alg, input) {
  const k = KEYS[alg].key;
  return alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }) : sign(null, Buffer.from(input), k);
}

function signed(alg, header, payload) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${b64(signature(alg, input))}`;
}

let count = 0;
function seed(name, bytes) {
  writeFileSync(join(out, name), bytes);
  count++;
}

for (const [alg, { kid, mode }] of Object.entries(KEYS)) {
  const a = alg.toLowerCase();
  const header = { alg, typ: 'JWT', kid };
  const good = signed(alg, header, claims);
  const [h, p, s] = good.split('.');
  const pem = createPublicKey(KEYS[alg].key).export({ type: 'spki', format: 'pem' });
  const hsHead = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }));
  // mode 0: compact tokens
  seed(`raw-${a}-valid`, mode(0) + good);
  seed(`raw-${a}-client`, mode(0) + signed(alg, header, { ...claims, client_id: 'c1', email: undefined }));
  seed(`raw-${a}-tampered`, `${mode(0)}${h}.${b64(JSON.stringify({ ...claims, is_staff: true }))}.${s}`);
  seed(`raw-${a}-none`, `${mode(0)}${b64(JSON.stringify({ alg: 'none', typ: 'JWT', kid }))}.${p}.`);
  seed(`raw-${a}-hs256`, `${mode(0)}${hsHead}.${p}.${createHmac('sha256', pem).update(`${hsHead}.${p}`).digest('base64url')}`);
  seed(`raw-${a}-unknown-kid`, `${mode(0)}${signed(alg, { ...header, kid: 'nobody' }, claims)}`);
  seed(`raw-${a}-two-parts`, `${mode(0)}${h}.${p}`);
  seed(`raw-${a}-four-parts`, `${mode(0)}${good}.${s}`);
  seed(`raw-${a}-padded`, `${mode(0)}${h}=.${p}.${s}`);
  // mode 1: JSON parts and the signature's bytes, encoded by the harness
  const sigBytes = Buffer.from(s, 'base64url');
  seed(`parts-${a}-valid`, Buffer.concat([Buffer.from(`${mode(1)}${JSON.stringify(header)}\n${JSON.stringify(claims)}\n`), sigBytes]));
  seed(`parts-${a}-bad-json`, `${mode(1)}{"alg":"${alg}","kid":"${kid}"\n{"sub":1,}\nxx`);
  // mode 2: header and payload the harness signs
  const json = (o) => JSON.stringify(o);
  seed(`signed-${a}-valid`, `${mode(2)}${json(header)}\n${json(claims)}`);
  seed(`signed-${a}-no-typ`, `${mode(2)}${json({ alg, kid })}\n${json(claims)}`);
  seed(`signed-${a}-typ-lower`, `${mode(2)}${json({ ...header, typ: 'jwt' })}\n{}`);
  seed(`signed-${a}-typ-other`, `${mode(2)}${json({ ...header, typ: 'at+jwt' })}\n{}`);
  seed(`signed-${a}-crit`, `${mode(2)}${json({ ...header, crit: ['exp'] })}\n{}`);
  seed(`signed-${a}-other-alg-kid`, `${mode(2)}${json({ ...header, kid: alg === 'ES256' ? 'fuzz-eddsa' : 'fuzz-es256' })}\n{}`);
  seed(`signed-${a}-none`, `${mode(2)}${json({ ...header, alg: 'none' })}\n{}`);
  seed(`signed-${a}-duplicate-alg`, `${mode(2)}{"alg":"${alg}","alg":"${alg}","kid":"${kid}"}\n{}`);
  seed(`signed-${a}-payload-array`, `${mode(2)}${json(header)}\n[1,2]`);
  seed(`signed-${a}-unicode`, `${mode(2)}${json(header)}\n{"email":"\\u00e9\\ud83d\\ude00","n":1.5e300,"big":9007199254740993}`);
}

// mode 3: form-encoded client credentials (HTTP Basic user and password)
for (const [name, text] of Object.entries({
  plain: 'reports', escapes: 'a%20b%2Bc+d', upper: '%4A%4b', colon: 'client%3Aid', nul: 'x%00y',
  'bad-escape': '%zz', 'short-escape': 'ab%4', utf8: '%C3%A9t%C3%A9', empty: '',
})) seed(`form-${name}`, `3${text}`);

console.log(`wrote ${count} seeds to ${out}`);
