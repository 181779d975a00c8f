// A real OpenID Connect provider for the tests (npm oidc-provider 9.x, installed by scripts/fetch-oidc-provider.sh).
// Usage: node provider.mjs <config.json>. The config (written by Fim.Testing.OidcProvider) names the port, the
// issuer, the signing keys file (created when missing, so two providers can share keys), the audience the API
// expects, the clients (client_credentials clients with a group list and a token lifetime, one browser client) and
// the test-only accounts (login, password, groups; singleUse: the password signs in once). Prints "oidc-provider listening <issuer>" when ready.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const require = createRequire(pathToFileURL(config.modulesDir + '/'));
const { default: Provider, errors } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

if (!existsSync(config.keysFile)) {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  writeFileSync(config.keysFile, JSON.stringify({ keys: [{ ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' }] }), { mode: 0o600 });
}
const jwks = JSON.parse(readFileSync(config.keysFile, 'utf8'));

const clientsById = new Map(config.clients.map((c) => [c.client_id, c]));
const accounts = new Map(config.accounts.map((a) => [a.login, a]));

const provider = new Provider(config.issuer, {
  jwks,
  clients: config.clients.map(({ groups, tokenTtl, ...metadata }) => metadata),
  cookies: { keys: [randomUUID()] },
  claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'fim',
        audience: resource,
        accessTokenTTL: clientsById.get(client.clientId)?.tokenTtl ?? 600,
        accessTokenFormat: 'jwt',
      }),
    },
  },
  extraTokenClaims: (ctx, token) => {
    const groups = token.accountId ? accounts.get(token.accountId)?.groups : clientsById.get(token.clientId)?.groups;
    return groups ? { groups } : undefined;
  },
  findAccount: (ctx, id) => {
    const account = accounts.get(id);
    return account && { accountId: id, claims: () => ({ sub: id, name: id, groups: account.groups }) };
  },
  // First-party clients only: consent is implied.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile groups offline_access');
    grant.addOIDCClaims(['sub', 'name', 'groups']);
    grant.addResourceScope(config.audience, 'fim');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  ttl: {
    ClientCredentials: (ctx, token, client) => clientsById.get(client.clientId)?.tokenTtl ?? 600,
    Session: 3600, Interaction: 600, Grant: 3600, DeviceCode: 600, IdToken: 3600, AccessToken: 600 },
});
// The browser client may return to any local manager (tests pick free ports).
const browserClients = new Set(config.clients.filter((c) => c.redirect_uris).map((c) => c.client_id));
const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
  return browserClients.has(this.clientId) && /^https?:\/\/127\.0\.0\.1:\d+\/signin-oidc$/.test(uri)
    ? true : redirectUriAllowed.call(this, uri);
};
const postLogoutAllowed = provider.Client.prototype.postLogoutRedirectUriAllowed;
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(uri) {
  return browserClients.has(this.clientId) && /^https?:\/\/127\.0\.0\.1:\d+\//.test(uri) ? true : postLogoutAllowed.call(this, uri);
};
provider.on('server_error', (ctx, error) => console.error('server_error', error));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Labelled fields: scripts/demo.sh sends people here, not only tests.
const page = (uid, message) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>${message ? `<p class="error">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label>Login <input type="text" name="login" autocomplete="username" autofocus></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password"></label></p>
<button type="submit">Sign in</button></form></body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The interaction (login) pages: a test-only account list with passwords.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(page(uid));
    return;
  }
  if (action !== 'login') { res.writeHead(404).end(); return; }
  const form = await readForm(req);
  const account = accounts.get(form.get('login') ?? '');
  if (account?.singleUse && account.used) {
    res.writeHead(401, { 'content-type': 'text/html' }).end(page(uid, 'This one-time password has been used. Start the demo again for a new one.'));
    return;
  }
  if (!account || account.password !== form.get('password')) {
    res.writeHead(401, { 'content-type': 'text/html' }).end(page(uid, 'Invalid login or password.'));
    return;
  }
  // A one-time login (scripts/demo.sh): the first sign-in uses it up; the console's session carries on from there.
  if (account.singleUse) account.used = true;
  await provider.interactionFinished(req, res, { login: { accountId: account.login } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const m = /^\/interaction\/([^/?]+)(?:\/(login))?(?:\?.*)?$/.exec(req.url ?? '');
  if (!m) { callback(req, res); return; }
  try {
    await interaction(req, res, m[1], m[2]);
  } catch (error) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error.message ?? error));
  }
});
server.listen(config.port, '127.0.0.1', () => console.log(`oidc-provider listening ${config.issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
