#!/usr/bin/python3
"""Password hashes made by their real producers, for the tests of hashes gatehouse imports.

Reads a JSON object {"password": ..., "specs": [{name, producer, ...}]} (or, with "items",
a list of {password, spec} pairs) on standard input and writes {name: hash} as JSON. Producers:
  django       django.contrib.auth.hashers (Debian's python3-django): hasher pbkdf2_sha256,
               pbkdf2_sha1 (with "iterations"), argon2 (Django's defaults), md5, unusable
  argon2-cffi  argon2.PasswordHasher (python3-argon2) with t, m, p (hash_len, salt_len)
  passlib      passlib.hash (python3-passlib): django_pbkdf2_sha256, django_pbkdf2_sha1 (with
               "iterations"), argon2 (with t, m, p)
Run it with /usr/bin/python3: the python3 on PATH may not see Debian's packages.
"""
import json
import sys

import django
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
    'django.contrib.auth.hashers.Argon2PasswordHasher',
    'django.contrib.auth.hashers.MD5PasswordHasher',
])
django.setup()

import argon2  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402
from passlib import hash as passlib_hash  # noqa: E402


def django_hash(password, spec):
    name = spec['hasher']
    if name == 'unusable':
        return hashers.make_password(None)
    if name in ('argon2', 'md5'):
        return hashers.make_password(password, hasher=name)
    base = {'pbkdf2_sha256': hashers.PBKDF2PasswordHasher,
            'pbkdf2_sha1': hashers.PBKDF2SHA1PasswordHasher}[name]
    hasher = type('Hasher', (base,), {'iterations': spec['iterations']})()
    return hasher.encode(password, hasher.salt())


def make(password, spec):
    producer = spec['producer']
    if producer == 'django':
        return django_hash(password, spec)
    if producer == 'argon2-cffi':
        return argon2.PasswordHasher(time_cost=spec['t'], memory_cost=spec['m'],
                                     parallelism=spec['p'], hash_len=spec.get('hash_len', 16),
                                     salt_len=spec.get('salt_len', 16)).hash(password)
    if producer == 'passlib':
        if spec['hasher'] == 'argon2':
            return passlib_hash.argon2.using(rounds=spec['t'], memory_cost=spec['m'],
                                             parallelism=spec['p']).hash(password)
        return getattr(passlib_hash, spec['hasher']).using(rounds=spec['iterations']).hash(password)
    raise SystemExit('unknown producer ' + producer)


def main():
    req = json.load(sys.stdin)
    if 'items' in req:
        out = [make(item['password'], item['spec']) for item in req['items']]
    else:
        out = {spec['name']: make(req['password'], spec) for spec in req['specs']}
    json.dump(out, sys.stdout)


main()
