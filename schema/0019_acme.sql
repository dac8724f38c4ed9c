-- iotca: ACME state (RFC 8555, issue 21): single-use nonces, External Account Binding keys, accounts, orders,
-- their authorizations and challenges. Every status change is a compare-and-set in one transaction
-- (lib/store/acme_orders.c), so concurrent clients never see a half-made change; the tick prunes what expired.
CREATE TABLE acme_nonces (
  nonce TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX acme_nonces_expiry ON acme_nonces (expires_at);

-- An EAB key (RFC 8555 §7.3.4) binds the account made with it to one profile. No key is stored: lib/ca makes
-- each HMAC key again from its kid and a secret derived from the daemon's key passphrase (lib/ca/acme.c);
-- `secret_hash` is the key's SHA-256, which that check compares first. `secret` holds what the CA service
-- chooses to keep (today the same hash), so a sealed key can replace the derivation without a migration.
CREATE TABLE acme_eab_keys (
  kid TEXT PRIMARY KEY,
  profile TEXT NOT NULL,
  secret BLOB NOT NULL,
  secret_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  account_id INTEGER
);

CREATE TABLE acme_accounts (
  id INTEGER PRIMARY KEY,
  thumbprint BLOB NOT NULL UNIQUE,  -- RFC 7638 SHA-256 of the account key
  spki BLOB NOT NULL,                -- the key, DER SubjectPublicKeyInfo
  status TEXT NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  contact TEXT NOT NULL DEFAULT '[]', -- JSON array of URLs, as the client sent it
  profile TEXT NOT NULL,
  eab_kid TEXT REFERENCES acme_eab_keys (kid),
  created_at INTEGER NOT NULL
);

CREATE TABLE acme_orders (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES acme_accounts (id),
  profile TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  identifiers TEXT NOT NULL,         -- JSON array of {type, value}
  not_before INTEGER,
  not_after INTEGER,
  expires_at INTEGER NOT NULL,
  error TEXT,                        -- RFC 7807 problem document (JSON) when invalid
  serial TEXT,                       -- the certificate, once valid
  replaces TEXT,                     -- RFC 9773 certificate identifier of the certificate it replaces
  created_at INTEGER NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders (account_id);
CREATE INDEX acme_orders_expiry ON acme_orders (expires_at);

CREATE TABLE acme_authzs (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES acme_orders (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('dns', 'ip')),
  value TEXT NOT NULL,
  wildcard INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires_at INTEGER NOT NULL
);
CREATE INDEX acme_authzs_order ON acme_authzs (order_id);

CREATE TABLE acme_challenges (
  id INTEGER PRIMARY KEY,
  authz_id INTEGER NOT NULL REFERENCES acme_authzs (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('http-01', 'dns-01', 'tls-alpn-01')),
  token TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated_at INTEGER,
  error TEXT
);
CREATE INDEX acme_challenges_authz ON acme_challenges (authz_id);
