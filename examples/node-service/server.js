// A service that accepts gatehouse access tokens with the JWKS alone (jose, node:http).
//
// GET /whoami with "Authorization: Bearer <access token>" answers 200 {"sub", "email",
// "client_id"}; a missing or invalid token answers 401, the JWKS out of reach 503.
//
// Settings (environment):
//   GATEHOUSE_URL         gatehouse's public URL                          (required)
//   GATEHOUSE_ISSUER      the iss tokens must carry                       [GATEHOUSE_URL]
//   GATEHOUSE_AUDIENCE    the aud tokens must carry                       [the issuer]
//   GATEHOUSE_JWKS_URL    where the public keys are      [GATEHOUSE_URL/.well-known/jwks.json]
//   GATEHOUSE_JWT_ALG     the one algorithm accepted (gatehouse's setting)  [ES256]
//   HOST, PORT            where to listen (PORT=0: any free port)         [127.0.0.1, 8082]
//   JWKS_REFRESH_SECONDS  least time between two fetches of the JWKS      [30]
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';

const env = process.env;
const gatehouseUrl = (env.GATEHOUSE_URL || '').replace(/\/+$/, '');
if (!gatehouseUrl) {
  console.error('server.js: set GATEHOUSE_URL to gatehouse\'s public URL');
  process.exit(2);
}
const issuer = env.GATEHOUSE_ISSUER || gatehouseUrl;
const audience = env.GATEHOUSE_AUDIENCE || issuer;
const algorithm = env.GATEHOUSE_JWT_ALG || 'ES256';
const clockLeeway = 5; // seconds our clock may differ from gatehouse's

// The key set is fetched on the first token, again for a kid not seen yet (gatehouse publishes
// a new key before it signs with it) but at most once per JWKS_REFRESH_SECONDS, and at least
// every ten minutes.
const jwks = createRemoteJWKSet(new URL(env.GATEHOUSE_JWKS_URL || `${gatehouseUrl}/.well-known/jwks.json`), {
  cooldownDuration: Number(env.JWKS_REFRESH_SECONDS || 30) * 1000,
  cacheMaxAge: 600_000,
  timeoutDuration: 5000,
});

/** The claims of a valid access token; throws otherwise. */
async function verify(token) {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: [algorithm], // never the one the token names: no "none", no HMAC
    issuer,
    audience,
    clockTolerance: clockLeeway,
    requiredClaims: ['exp', 'iat', 'sub'],
  });
  if (payload.token_type !== 'access') throw new errors.JWTClaimValidationFailed('not an access token', payload, 'token_type', 'check_failed');
  return payload;
}

function reply(res, status, body, challenge) {
  const data = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  if (challenge) headers['www-authenticate'] = challenge;
  res.writeHead(status, headers);
  res.end(data);
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'GET' || req.url.split('?')[0] !== '/whoami') return reply(res, 404, { error: 'not found' });
  const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization || '');
  if (!m) return reply(res, 401, { error: 'a Bearer access token is needed' }, 'Bearer realm="example"');
  let claims;
  try {
    claims = await verify(m[1]);
  } catch (err) {
    // jose's own errors are about the token; anything else (the JWKS unreachable) is ours
    if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) return reply(res, 503, { error: 'the signing keys cannot be fetched' });
    return reply(res, 401, { error: 'invalid token' }, 'Bearer error="invalid_token"');
  }
  reply(res, 200, { sub: claims.sub, email: claims.email ?? null, client_id: claims.client_id ?? null });
});

server.listen(Number(env.PORT || 8082), env.HOST || '127.0.0.1', () => {
  const { address, port } = server.address();
  console.error(`listening on ${address}:${port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
