#!/usr/bin/env bash
# The ACME test harness (issue 21) proven against Debian's pebble: a Knot DNS server taking TSIG-signed updates,
# certbot (http-01 standalone, dns-01 through RFC 2136, renew, revoke, --nginx into a test nginx) and lego
# (http-01, tls-alpn-01, dns-01, eight clients at once), all with external account binding, every certificate
# checked with openssl (its names, its chain to the server's root). To point it at iotcad, replace start_pebble
# with a function that sets ACME_DIRECTORY, ACME_CA_BUNDLE, ACME_ROOTS, EAB_KID and EAB_HMAC.
#
# Client quirks met on Debian 12 (certbot 2.1.0, lego 4.9.1, pebble 2.4.0, Knot 3.2.6, nginx 1.22.1):
# - pebble: Debian's package ships no HTTPS certificate (dpkg -L pebble: the binaries, the README and example
#   configs naming test/certs/localhost/*.pem, a path in the source tree), so acme_lib.sh makes a throwaway CA
#   and a certificate for 127.0.0.1. The directory is https://127.0.0.1:PORT/dir (pebble serves no http://).
#   Unless PEBBLE_VA_NOSLEEP=1 its VA sleeps 0-15 s per validation; it rejects 5% of good nonces unless
#   PEBBLE_WFE_NONCEREJECT=0, and reuses valid authorizations half the time unless PEBBLE_AUTHZREUSE=0 (set here
#   so that renewals really validate again). Its issuing root changes on every start: /roots/0 of the
#   management API. It issues 5-year certificates. It validates http-01 and tls-alpn-01 at one port each for
#   the whole server (httpPort, tlsPort), and resolves the names (A for http/tls, TXT for dns-01) at -dnsserver.
# - certbot trusts the directory's HTTPS certificate through REQUESTS_CA_BUNDLE (no flag). Its state is in
#   --config-dir (accounts/, live/, archive/, renewal/*.conf), --work-dir and --logs-dir; without them it uses
#   /etc/letsencrypt, /var/lib/letsencrypt and /var/log/letsencrypt. EAB: --eab-kid and --eab-hmac-key (base64url
#   without padding) at the first registration only; without them the server's "externalAccountRequired" is
#   answered "Server requires external account binding". The standalone server takes --http-01-port and
#   --http-01-address; certbot 2.1 has no tls-alpn-01 authenticator (--https-port is only for installers: the
#   port nginx gets `listen PORT ssl` on). dns-rfc2136 waits --dns-rfc2136-propagation-seconds (default 60; 0
#   is accepted) and reads server, port, key name, secret and algorithm (HMAC-SHA256) from an ini file that
#   should be mode 0600. `renew` without a TTY on stdin first sleeps a random 1-480 s ("Non-interactive renewal:
#   random delay") unless --no-random-sleep-on-renew (hidden from --help all; one run here slept 350 s). It
#   re-reads the server URL, ports and credentials file from renewal/NAME.conf; REQUESTS_CA_BUNDLE must be set
#   again. `revoke` takes --cert-name and asks whether to delete the lineage
#   unless --delete-after-revoke / --no-delete-after-revoke is given. It says "Certbot has set up a scheduled
#   task" though certonly installed nothing (that is the Debian package's certbot.timer / cron.d entry).
# - certbot --nginx: --nginx-server-root is the directory holding nginx.conf, --nginx-ctl the nginx binary; it
#   runs `nginx -c ROOT/nginx.conf -s reload` (no -p: every path in the config must be absolute) and sleeps a
#   second after. For http-01 it answers from the server block listening on --http-01-port, so the test nginx
#   listens on HTTP01_PORT. It adds `listen HTTPS_PORT ssl` without an address (all interfaces, not the
#   loopback the server block had) and includes options-ssl-nginx.conf and ssl-dhparams.pem from --config-dir.
# - lego trusts the directory's certificate through LEGO_CA_CERTIFICATES (a PEM path; no flag). Its state is in
#   --path (accounts/HOST_PORT/EMAIL/, certificates/NAME.{crt,issuer.crt,key,json}); without --path it writes
#   ./.lego in the working directory, not ~/.lego. EAB: --eab --kid K --hmac H. --http.port and --tls.port take
#   ADDR:PORT (":PORT" binds every interface). It waits ~5 s before polling a challenge it answered, so each
#   http-01/tls-alpn-01 order takes ~6 s even with a server that validates at once.
# - lego dns-01 rfc2136: RFC2136_NAMESERVER (host:port), RFC2136_TSIG_KEY (the key name), RFC2136_TSIG_SECRET,
#   RFC2136_TSIG_ALGORITHM (hmac-sha256.). It finds the zone by SOA queries at --dns.resolvers (default: the
#   system's, useless for acme.test); its "complete propagation" check then asks every NS of the zone by name on
#   port 53 through the system resolver, so with a DNS server on another port --dns.disable-cp is required.
#   x and *.x share one TXT owner name and are solved in turn RFC2136_SEQUENCE_INTERVAL apart (default 60 s).
#
# - Neither client refuses an http:// directory URL up front: both tried to connect (tried against a closed
#   port only; whether a whole order works over plain HTTP was not tried, pebble serves HTTPS only).
#
# Times on 2 shared cores, six runs: the whole script 52-60 s; certbot http-01 4.2-5.1 s, dns-01 3.3-4.0 s,
# renew of two lineages 5.7-6.6 s, revoke 1.0-1.9 s, --nginx 7.3-8.3 s; lego http-01 0.6-6.1 s (fast when its
# first poll already finds the challenge valid), tls-alpn-01 5.8-6.5 s, dns-01 for x and *.x 3.2-8.7 s, eight
# clients at once 7.3-7.8 s. Each client line prints its own time; none is asserted on.
# shellcheck source=tests/integration/acme_lib.sh
source "$(dirname "$0")/acme_lib.sh"

acme_deps
cd "$ACME_TMP"

# ---- the DNS server -----------------------------------------------------------------------------------------
start_dns acme.test
ok "knotd serves acme.test on 127.0.0.1:$DNS_PORT"
[[ $(kdig +short @127.0.0.1 -p "$DNS_PORT" A anything.acme.test) == 127.0.0.1 ]] ||
  die "anything.acme.test does not resolve to 127.0.0.1"
ok "every name in the zone resolves to 127.0.0.1 (where the clients answer the challenges)"
dns_update "update add _probe.acme.test. 1 TXT signed-update" >dns.log 2>&1 ||
  die "a TSIG-signed update was refused: $(cat dns.log)"
[[ $(dns_txt _probe.acme.test) == signed-update ]] ||
  die "the signed update is not served: '$(dns_txt _probe.acme.test)'"
ok "an update signed with the TSIG key ($TSIG_NAME, hmac-sha256) adds a TXT record that dns_txt reads"
rc=0
dns_update --no-key "update add _probe2.acme.test. 1 TXT unsigned-update" >dns.log 2>&1 || rc=$?
[[ $rc -ne 0 ]] || die "an unsigned update was accepted"
grep -q NOTAUTH dns.log || die "an unsigned update failed, but not with NOTAUTH: $(cat dns.log)"
[[ -z $(dns_txt _probe2.acme.test) ]] || die "the refused update's record is served"
ok "an unsigned update is refused (NOTAUTH) and its record is not served"
rc=0
TSIG_SECRET=$(openssl rand -base64 32) dns_update "update add _probe3.acme.test. 1 TXT wrong-key" >dns.log 2>&1 || rc=$?
[[ $rc -ne 0 && -z $(dns_txt _probe3.acme.test) ]] || die "an update signed with a wrong secret was accepted"
ok "an update signed with a wrong secret is refused"
dns_update "update delete _probe.acme.test. TXT" >dns.log 2>&1 || die "deleting the probe record failed: $(cat dns.log)"

# ---- the ACME server ----------------------------------------------------------------------------------------
start_pebble
curl -sf --cacert "$ACME_CA_BUNDLE" "$ACME_DIRECTORY" >directory.json || die "GET $ACME_DIRECTORY failed"
[[ $(jq -r .meta.externalAccountRequired directory.json) == true ]] ||
  die "the directory does not require EAB: $(cat directory.json)"
ok "pebble's directory at $ACME_DIRECTORY requires external account binding"
openssl x509 -in "$ACME_ROOTS" -noout >/dev/null 2>&1 || die "the root from $ACME_MGMT/roots/0 does not parse"
ok "pebble's issuing root fetched from its management API (/roots/0)"

# ---- certbot ----------------------------------------------------------------------------------------------
STANDALONE=(--standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1)
CB_EAB=(--eab-kid "$EAB_KID" --eab-hmac-key="$EAB_HMAC")
LIVE=$ACME_TMP/certbot/config/live

client_refused "certbot without EAB cannot register" "external account binding" \
  certbot_run certonly "${STANDALONE[@]}" -d refused.acme.test
client_refused "certbot with a wrong EAB key cannot register" "unauthorized|binding|mac" \
  certbot_run certonly "${STANDALONE[@]}" -d refused.acme.test --eab-kid "$EAB_KID" \
  --eab-hmac-key="$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')"
client_ok "certbot with EAB: http-01 (--standalone on $HTTP01_PORT) for web.acme.test" \
  certbot_run certonly "${STANDALONE[@]}" -d web.acme.test "${CB_EAB[@]}"
check_issued "$LIVE/web.acme.test/cert.pem" "$LIVE/web.acme.test/chain.pem" web.acme.test

certbot_rfc2136_ini rfc2136.ini
client_ok "certbot dns-01 (--dns-rfc2136, TSIG) for dns.acme.test and *.dns.acme.test" \
  certbot_run certonly --dns-rfc2136 --dns-rfc2136-credentials "$ACME_TMP/rfc2136.ini" \
  --dns-rfc2136-propagation-seconds 0 -d dns.acme.test -d '*.dns.acme.test'
check_issued "$LIVE/dns.acme.test/cert.pem" "$LIVE/dns.acme.test/chain.pem" dns.acme.test '*.dns.acme.test'
[[ -z $(dns_txt _acme-challenge.dns.acme.test) ]] || die "certbot left its TXT record behind"
ok "certbot removed its _acme-challenge TXT record"

web_serial=$(cert_serial "$LIVE/web.acme.test/cert.pem")
dns_serial=$(cert_serial "$LIVE/dns.acme.test/cert.pem")
client_ok "certbot renew --force-renewal (both lineages, from their renewal/*.conf)" \
  certbot_run renew --force-renewal --no-random-sleep-on-renew
grep -q 'Congratulations, all renewals succeeded' "$ACME_LAST_LOG" ||
  die "renew did not report success: $(cat "$ACME_LAST_LOG")"
[[ $(cert_serial "$LIVE/web.acme.test/cert.pem") != "$web_serial" ]] || die "web.acme.test was not renewed"
[[ $(cert_serial "$LIVE/dns.acme.test/cert.pem") != "$dns_serial" ]] || die "dns.acme.test was not renewed"
[[ -s $ACME_TMP/certbot/config/archive/web.acme.test/cert2.pem ]] || die "no cert2.pem in the web.acme.test archive"
ok "both certificates were replaced (new serials, cert2.pem in the archive)"
check_issued "$LIVE/web.acme.test/cert.pem" "$LIVE/web.acme.test/chain.pem" web.acme.test
check_issued "$LIVE/dns.acme.test/cert.pem" "$LIVE/dns.acme.test/chain.pem" dns.acme.test '*.dns.acme.test'

serial=$(cert_serial "$LIVE/web.acme.test/cert.pem")
curl -sf --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/cert-status-by-serial/$serial" >status.json ||
  die "pebble does not know serial $serial"
[[ $(jq -r .Status status.json) == Valid ]] || die "before revoke: $(cat status.json)"
client_ok "certbot revoke --cert-name web.acme.test" \
  certbot_run revoke --cert-name web.acme.test --reason keycompromise --no-delete-after-revoke
curl -sf --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/cert-status-by-serial/$serial" >status.json ||
  die "pebble does not know serial $serial after revoke"
[[ $(jq -r .Status status.json) == Revoked && $(jq -r .Reason status.json) == 1 ]] ||
  die "after revoke: $(cat status.json)"
ok "pebble reports serial $serial Revoked (reason 1, keyCompromise)"

start_nginx site.acme.test
NGINX_TLS_PORT=$(acme_free_port)
client_ok "certbot --nginx for site.acme.test (http-01 through nginx on $NGINX_PORT, TLS on $NGINX_TLS_PORT)" \
  certbot_run --nginx --nginx-server-root "$NGINX_ROOT" --nginx-ctl "$(command -v nginx)" \
  --http-01-port "$HTTP01_PORT" --https-port "$NGINX_TLS_PORT" -d site.acme.test
check_issued "$LIVE/site.acme.test/cert.pem" "$LIVE/site.acme.test/chain.pem" site.acme.test
grep -q "ssl_certificate $LIVE/site.acme.test/fullchain.pem;" "$NGINX_CONF" || die "nginx.conf: $(cat "$NGINX_CONF")"
ok "certbot wrote ssl_certificate into the test nginx.conf"
body=""
for _ in $(seq 1 50); do # the reload is asynchronous: the old workers may answer a moment longer
  body=$(curl -sS --cacert "$ACME_ROOTS" --resolve "site.acme.test:$NGINX_TLS_PORT:127.0.0.1" \
    "https://site.acme.test:$NGINX_TLS_PORT/" 2>curl.err) && break
  sleep 0.1
done
[[ $body == "nginx for site.acme.test" ]] || die "HTTPS to nginx: '$body' $(cat curl.err)"
ok "curl --cacert <pebble's root> connects over HTTPS to nginx and gets the page"
served=$(openssl s_client -connect "127.0.0.1:$NGINX_TLS_PORT" -servername site.acme.test </dev/null 2>/dev/null |
  openssl x509 -noout -serial | sed 's/^serial=0*//' | tr 'A-F' 'a-f')
[[ $served == "$(cert_serial "$LIVE/site.acme.test/cert.pem")" ]] || die "nginx serves serial '$served'"
ok "nginx serves the certificate certbot obtained"
curl -sS --cacert "$ACME_CA_BUNDLE" --resolve "site.acme.test:$NGINX_TLS_PORT:127.0.0.1" \
  "https://site.acme.test:$NGINX_TLS_PORT/" >/dev/null 2>&1 && die "curl trusted nginx without pebble's root"
ok "  ...and curl refuses it when trusting only the directory's HTTPS CA"
stop_nginx # frees HTTP01_PORT for lego

# ---- lego -----------------------------------------------------------------------------------------------
LEGO_EAB=(--eab --kid "$EAB_KID" --hmac "$EAB_HMAC")
CERTS=$ACME_TMP/lego/certificates
lego_rfc2136_env

LEGO_DIR=$ACME_TMP/lego-noeab client_refused "lego without EAB cannot register" "external account" \
  lego_run --domains refused.acme.test --http --http.port "127.0.0.1:$HTTP01_PORT" run
client_ok "lego with EAB: http-01 (--http.port 127.0.0.1:$HTTP01_PORT) for h.acme.test" \
  lego_run "${LEGO_EAB[@]}" --domains h.acme.test --http --http.port "127.0.0.1:$HTTP01_PORT" run
check_issued "$CERTS/h.acme.test.crt" "$CERTS/h.acme.test.issuer.crt" h.acme.test
client_ok "lego tls-alpn-01 (--tls.port 127.0.0.1:$TLSALPN01_PORT) for t.acme.test" \
  lego_run "${LEGO_EAB[@]}" --domains t.acme.test --tls --tls.port "127.0.0.1:$TLSALPN01_PORT" run
check_issued "$CERTS/t.acme.test.crt" "$CERTS/t.acme.test.issuer.crt" t.acme.test
client_ok "lego dns-01 (rfc2136, TSIG) for d.acme.test and *.d.acme.test" \
  lego_run "${LEGO_EAB[@]}" --domains d.acme.test --domains '*.d.acme.test' "${LEGO_DNS_ARGS[@]}" run
check_issued "$CERTS/d.acme.test.crt" "$CERTS/d.acme.test.issuer.crt" d.acme.test '*.d.acme.test'
[[ -z $(dns_txt _acme-challenge.d.acme.test) ]] || die "lego left its TXT record behind"
ok "lego removed its _acme-challenge TXT record"

# Eight clients at once, each with its own account and state: one on the http-01 port, one on the tls-alpn-01
# port (the server validates each challenge type at one port), six through dns-01.
t0=$EPOCHREALTIME
pids=()
for i in 1 2 3 4 5 6 7 8; do
  case $i in
    1) how=(--http --http.port "127.0.0.1:$HTTP01_PORT") ;;
    2) how=(--tls --tls.port "127.0.0.1:$TLSALPN01_PORT") ;;
    *) how=("${LEGO_DNS_ARGS[@]}") ;;
  esac
  LEGO_DIR=$ACME_TMP/lego-p$i lego_run "${LEGO_EAB[@]}" --domains "p$i.acme.test" "${how[@]}" run &
  pids+=("$!")
done
failed=""
for i in 1 2 3 4 5 6 7 8; do
  wait "${pids[$((i - 1))]}" || failed+=" p$i($(tail -n 3 "$ACME_TMP/lego-p$i.log" | tr '\n' ' '))"
done
[[ -z $failed ]] || die "parallel lego clients failed:$failed"
ok "eight lego clients at once (http-01, tls-alpn-01, 6 x dns-01) all succeed ($(acme_since "$t0") s)"
serials=""
for i in 1 2 3 4 5 6 7 8; do
  check_issued "$ACME_TMP/lego-p$i/certificates/p$i.acme.test.crt" \
    "$ACME_TMP/lego-p$i/certificates/p$i.acme.test.issuer.crt" "p$i.acme.test"
  serials+="$(cert_serial "$ACME_TMP/lego-p$i/certificates/p$i.acme.test.crt")"$'\n'
done
[[ $(sort -u <<<"$serials" | grep -c .) == 8 ]] || die "the eight certificates do not have eight serials: $serials"
ok "the eight certificates have eight distinct serials"

echo "$CHECKS passed, 0 failed"
