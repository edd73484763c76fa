#!/usr/bin/env bash
# Writes the seed corpus of the whole-request harness (fuzz/http.c) into fuzz/corpus/http/:
# one well-formed request per route of src/api/routes.c, plus a few shapes of HTTP itself
# (chunked body, pipelined requests, a forwarded client address). Run it again after adding a
# route; the files are committed, so fuzzing never depends on this script.
#
#   fuzz/make-http-seeds.sh
set -euo pipefail
export LC_ALL=C

out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/corpus/http"
mkdir -p "$out"
rm -f "$out"/*

# The session token, account and session id that fuzz/http.c creates at start, and the public
# URL it configures (the Origin the server accepts).
token=fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz
email=fuzz@example.com
password='correct horse battery staple'
session_id=6f7a7a00-0000-4000-8000-00000000f022
origin=http://gatehouse.fuzz
cookie="Cookie: sessionid=$token"
link_token=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE

# seed NAME METHOD TARGET [HEADER...] < BODY: a request with Content-Length when BODY is not
# empty. Headers are given without their CRLF.
seed() {
    local name=$1 method=$2 target=$3
    shift 3
    local body
    body=$(cat; printf x)
    body=${body%x}
    {
        printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n' "$method" "$target"
        for h in "$@"; do printf '%s\r\n' "$h"; done
        [ -n "$body" ] && printf 'Content-Length: %d\r\n' "${#body}"
        printf '\r\n%s' "$body"
    } >"$out/$name"
}

json='Content-Type: application/json'
form() { printf -- '--XyZ\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "$1" "$2"; }
multipart='Content-Type: multipart/form-data; boundary=XyZ'
# A PNG signature and a few bytes: what the avatar type check looks at (no NUL bytes, which a
# shell variable cannot hold).
png=$(printf '\x89PNG\r\n\x1a\nIHDR-fuzz')

seed health-check GET /health-check/ </dev/null
seed ready GET /ready </dev/null
seed metrics GET /metrics 'Accept: text/plain' </dev/null
seed not-found GET /nowhere/ </dev/null
seed method-not-allowed PUT /users/login/ "$json" <<<'{}'

seed register POST /users/register/ "$json" "Origin: $origin" 'User-Agent: fuzz/1.0' \
    < <(printf '{"email":"ada@example.com","password":"correct horse battery staple",'
        printf '"first_name":"Ada","last_name":"Lovelace"}')
seed register-confirm GET "/users/register/confirm/?token=$link_token" </dev/null
seed regenerate-token POST /users/regenerate-token/ "$json" \
    < <(printf '{"email":"ada@example.com"}')

seed login POST /users/login/ "$json" "Origin: $origin" \
    < <(printf '{"email":"%s","password":"%s"}' "$email" "$password")
seed login-wrong-password POST /users/login/ "$json; charset=utf-8" \
    < <(printf '{"email":"%s","password":"not the password at all"}' "$email")
# A chunked body, no Content-Length.
chunk() { printf '%x\r\n%s\r\n' "${#1}" "$1"; }
{
    printf 'POST /users/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n' "$json"
    printf 'Transfer-Encoding: chunked\r\n\r\n'
    chunk "{\"email\":\"$email\","
    chunk '"password":"wrong password"}'
    printf '0\r\n\r\n'
} >"$out/login-chunked"

seed current-user GET /users/current-user/ "$cookie" </dev/null
seed current-user-forwarded GET /users/current-user/ "$cookie" 'X-Forwarded-For: 10.0.0.1' \
    </dev/null
seed logout POST /users/logout/ "$cookie" "Origin: $origin" </dev/null

seed update-user PATCH /users/update-user/ "$cookie" "$multipart" "Origin: $origin" < <(
    form first_name Ada
    form last_name Lovelace
    form phone_number +4412345678
    form birth_date 1990-12-10
    form github_link https://github.com/ada
    printf -- '--XyZ--\r\n'
)
seed update-user-avatar PATCH /users/update-user/ "$cookie" "$multipart" < <(
    printf -- '--XyZ\r\nContent-Disposition: form-data; name="thumbnail"; filename="a.png"\r\n'
    printf 'Content-Type: image/png\r\n\r\n%s\r\n--XyZ--\r\n' "$png"
)
seed update-user-no-session PATCH /users/update-user/ "$multipart" < <(
    form first_name Grace
    printf -- '--XyZ--\r\n'
)
seed update-user-urlencoded PATCH /users/update-user/ "$cookie" \
    'Content-Type: application/x-www-form-urlencoded' \
    < <(printf 'first_name=Ada&last_name=Lovelace&phone_number=%%2B4412345678')

seed request-password-change POST /users/password-change/request-password-change/ "$json" \
    < <(printf '{"email":"%s"}' "$email")
seed confirm-password-change GET \
    "/users/password-change/confirm/change-password/?token=$link_token" </dev/null
seed change-user-password POST /users/password-change/change-user-password/ "$json" \
    < <(printf '{"token":"%s","password":"a brand new passphrase"}' "$link_token")
seed change-password POST /users/change-password/ "$cookie" "$json" \
    < <(printf '{"current_password":"%s","new_password":"%s"}' "$password" "$password")

seed sessions GET /users/sessions/ "$cookie" </dev/null
seed sessions-delete DELETE "/users/sessions/$session_id/" "$cookie" "Origin: $origin" </dev/null

seed media GET /media/avatars/00000000-0000-4000-8000-000000000000.png </dev/null
seed web-index GET / </dev/null
seed web-login GET /auth/login 'Accept-Encoding: gzip' </dev/null
seed web-static GET /static/style.css </dev/null

# Two requests on one keep-alive connection.
{
    printf 'GET /health-check/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
    printf 'GET /users/current-user/ HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n' \
        "$cookie"
} >"$out/pipelined"

ls "$out" | wc -l | xargs printf 'fuzz/corpus/http: %s seeds\n'
