// Peer server for benches/peer/run.sh: panva's oidc-provider configured like Tessera's
// benchmark tenant (see README.md beside this file for what is and is not equivalent).
//
// Environment:
//   PORT               listen port on 127.0.0.1 (default 3100); the issuer is http://127.0.0.1:PORT
//   ALG                EdDSA | ES256 | RS256 (default EdDSA): alg of the JWT access tokens
//                      (and of the web client's ID tokens)
//   KEYS               all (default): one key of each type in the JWKS, like a Tessera tenant
//                      (Ed25519, P-256, RSA-2048), ALG picks the signing one;
//                      one: only the key for ALG
//   DAEMON_SECRET      client_secret of client "daemon" (default: random, printed to stderr)
//   WEB_SECRET         client_secret of client "web" (default: random, printed to stderr)
//   SEED_REFRESH       number of refresh tokens to seed for client "web" (default 0)
//   SEED_REFRESH_FILE  where to write them, one a line (required when SEED_REFRESH > 0)
//   DEV_INTERACTIONS   1: oidc-provider's built-in login and consent pages, which
//                      session.py goes through once for the code-flow load's session
//
// Prints "ready on http://127.0.0.1:PORT" once listening, then (when seeding)
// "seeded N refresh tokens to FILE" once the file is complete. Nothing is logged per
// request; oidc-provider prints a few one-time notices to stdout/stderr.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const PORT = Number.parseInt(process.env.PORT ?? '3100', 10);
const ISSUER = `http://127.0.0.1:${PORT}`;
const ALG = process.env.ALG ?? 'EdDSA';
const KEYS = process.env.KEYS ?? 'all';
const RESOURCE = 'api://bench';
// Same resource server, opaque tokens: oidc-provider does not look into JWT access
// tokens (it answers active: false), so the introspection load uses one of these.
const OPAQUE_RESOURCE = 'api://bench-opaque';
const SEED_REFRESH = Number.parseInt(process.env.SEED_REFRESH ?? '0', 10);
const SEED_REFRESH_FILE = process.env.SEED_REFRESH_FILE;

const generators = {
  EdDSA: () => generateKeyPairSync('ed25519'),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
if (!generators[ALG]) {
  console.error(`ALG must be one of ${Object.keys(generators).join(', ')}, not ${ALG}`);
  process.exit(2);
}
if (KEYS !== 'all' && KEYS !== 'one') {
  console.error(`KEYS must be all or one, not ${KEYS}`);
  process.exit(2);
}
// kid is left out: oidc-provider sets it to the RFC 7638 thumbprint, as Tessera does.
const keys = (KEYS === 'all' ? Object.keys(generators) : [ALG])
  .map((alg) => generators[alg]().privateKey.export({ format: 'jwk' }));

function secret(name) {
  const value = process.env[name];
  if (value) return value;
  const generated = randomBytes(32).toString('base64url');
  console.error(`${name} not set; generated: ${generated}`);
  return generated;
}

const resourceServer = {
  scope: 'Reader',
  audience: RESOURCE,
  accessTokenTTL: 3600, // Tessera's default access_token_lifetime_seconds
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: ALG } },
};

const configuration = {
  clients: [
    {
      client_id: 'daemon',
      client_secret: secret('DAEMON_SECRET'),
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: [],
      redirect_uris: [],
      // Unused (no ID tokens here); set so the client is valid with KEYS=one.
      id_token_signed_response_alg: ALG,
    },
    {
      client_id: 'web',
      client_secret: secret('WEB_SECRET'),
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      id_token_signed_response_alg: ALG,
    },
  ],
  jwks: { keys },
  // Random, so the cookie-keys notice does not fire; no cookie is set in these loads.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id }),
  }),
  rotateRefreshToken: true,
  // As Tessera: PKCE is required of public clients; the confidential "web" client's
  // code flow may go without (Tessera's bench code flow does).
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 3600,
    IdToken: 3600,
    // Tessera's refresh_token_lifetime_seconds (90 days, absolute for the family).
    RefreshToken: 90 * 24 * 3600,
    Grant: 90 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: process.env.DEV_INTERACTIONS === '1' },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A request without resource= gets a JWT for api://bench (oneOf is the list a
      // multi-resource grant offers; keep oidc-provider's behaviour for it).
      defaultResource: async (ctx, client, oneOf) => oneOf ?? RESOURCE,
      // Refreshes keep the granted resource (so they get a JWT for api://bench too).
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator === RESOURCE) return resourceServer;
        if (resourceIndicator === OPAQUE_RESOURCE) {
          return { scope: 'Reader', audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'opaque' };
        }
        throw new Provider.errors.InvalidTarget();
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);

async function seedRefreshTokens(count, file) {
  const client = await provider.Client.find('web');
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: 'web' });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(RESOURCE, 'Reader');
    const grantId = await grant.save();
    const refreshToken = new provider.RefreshToken({
      accountId,
      client,
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access Reader',
      resource: RESOURCE,
      expiresWithSession: false,
      authTime: Math.floor(Date.now() / 1000),
    });
    lines.push(await refreshToken.save());
  }
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, lines.length ? `${lines.join('\n')}\n` : '');
  renameSync(tmp, file);
}

const server = provider.listen(PORT, '127.0.0.1', async () => {
  console.log(`ready on ${ISSUER}`);
  if (SEED_REFRESH > 0) {
    if (!SEED_REFRESH_FILE) {
      console.error('SEED_REFRESH needs SEED_REFRESH_FILE');
      process.exit(2);
    }
    await seedRefreshTokens(SEED_REFRESH, SEED_REFRESH_FILE);
    console.log(`seeded ${SEED_REFRESH} refresh tokens to ${SEED_REFRESH_FILE}`);
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    process.exit(0);
  });
}
