// A real OpenID provider (the certified `oidc-provider` package) for the single sign-on
// tests. The Python fixture (tests/oidc/conftest.py) writes a JSON config and starts
// `node provider.mjs <config>`; it prints "ready <port>" once it listens.
//
// Config: {"issuer", "port", "keys": [private JWKs], "clients": [client metadata]}.
// The signing keys come from the config so a test can rotate them (restart with a new
// key, the old one gone) and sign tokens with the provider's own key.
//
// Two people can log in (the development login page takes any password):
//   anna  an employee
//   piet  whose preferred_username pretends to be a door panel ("panel:r-1.01") and who is
//         in the facility group
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const PEOPLE = {
  anna: {
    name: 'Anna de Vries', preferred_username: 'anna', email: 'anna@example.org', groups: [],
  },
  piet: {
    name: 'Piet Jansen', preferred_username: 'panel:r-1.01', email: 'piet@example.org',
    groups: ['werkplek-facilitair'],
  },
};

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: config.keys },
  cookies: { keys: config.cookieKeys },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  // The claims asked for by scope go into the ID token too (the backend reads only that).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  async findAccount(_ctx, sub) {
    const person = PEOPLE[sub];
    if (!person) return undefined;
    return { accountId: sub, async claims() { return { sub, ...person }; } };
  },
  // A first-party client: no consent page after the login.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['name', 'preferred_username', 'email', 'groups']);
    await grant.save();
    return grant;
  },
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
