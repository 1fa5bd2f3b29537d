// A real OpenID Connect provider for the sign-in tests (oidc-provider, the certified Node.js
// implementation): node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI.
// Accounts and their groups come as JSON in OIDC_ACCOUNTS; its development sign-in pages
// stand in for the hospital's own.
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_post",
  }],
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
    groups: ["groups"],
  },
  async findAccount(ctx, id) {
    if (!(id in accounts)) return undefined;
    return {
      accountId: id,
      async claims() {
        const { email, groups } = accounts[id];
        return { sub: id, preferred_username: id, email, email_verified: true, groups };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["leafletpress-test-only"] },
});
provider.listen(Number(port), "127.0.0.1");
