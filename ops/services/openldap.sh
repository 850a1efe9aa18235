# OpenLDAP: slapd on loopback, ldap and ldaps with a test CA, the service account and the test agents. Sourced by ops/services.sh.

slapd_pid() { live_pid "$SVC/ldap/slapd.pid" slapd; }

# slapd logs only to syslog (absent here), so a failed start is rerun in the foreground with -d to capture why.
slapd_failed() {
  local urls="$1" dir="$2"
  (ulimit -Sn 1024 && timeout 5 slapd -d none -h "$urls" -F "$dir/conf") >"$dir/slapd-debug.log" 2>&1 || true
  fail_with_log slapd "$dir/slapd-debug.log"
}

# A test CA and a certificate for 127.0.0.1/localhost signed by it, kept across restarts (EC keys: ~50 ms to make);
# made again when a file is missing or the certificate expires within a day.
ensure_ldap_tls() {
  local tls="$SVC/ldap/tls"
  if [[ -s "$tls/ca.crt" && -s "$tls/server.crt" && -s "$tls/server.key" ]] \
    && openssl x509 -checkend 86400 -noout -in "$tls/server.crt" >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$tls"
  mkdir -p "$tls"
  (
    cd "$tls"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=SamaConso test directory CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile server.ext -out server.crt
    rm -f server.csr server.ext ca.srl
    chmod 644 ca.crt server.crt
  ) >"$SVC/ldap-tls.log" 2>&1 || fail_with_log "slapd TLS material" "$SVC/ldap-tls.log"
}

write_ldap_config() {
  local dir="$1" root_hash
  root_hash="$(slappasswd -s "$LDAP_ADMIN_PASSWORD")"
  cat >"$dir/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcTLSCACertificateFile: $dir/tls/ca.crt
olcTLSCertificateFile: $dir/tls/server.crt
olcTLSCertificateKeyFile: $dir/tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $LDAP_BASE_DN
olcDbDirectory: $dir/data
olcRootDN: $LDAP_ADMIN_DN
olcRootPW: $root_hash
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="$LDAP_BIND_DN" read by self read by * none
EOF
}

write_ldap_data() {
  local dir="$1" agent uid given sn agency password
  cat >"$dir/data.ldif" <<EOF
dn: $LDAP_BASE_DN
objectClass: dcObject
objectClass: organization
dc: samaconso
o: SamaConso test directory

dn: ou=services,$LDAP_BASE_DN
objectClass: organizationalUnit
ou: services

dn: $LDAP_BIND_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: svc-samaconso
userPassword: $(slappasswd -s "$LDAP_BIND_PASSWORD")

dn: ou=agents,$LDAP_BASE_DN
objectClass: organizationalUnit
ou: agents
EOF
  for agent in "${LDAP_AGENTS[@]}"; do
    IFS='|' read -r uid given sn agency password <<<"$agent"
    cat >>"$dir/data.ldif" <<EOF

dn: uid=$uid,ou=agents,$LDAP_BASE_DN
objectClass: inetOrgPerson
uid: $uid
cn: $given $sn
givenName: $given
sn: $sn
mail: $uid@samaconso.test
departmentNumber: $agency
userPassword: $(slappasswd -s "$password")
EOF
  done
}

start_ldap() {
  local dir="$SVC/ldap" url="ldap://127.0.0.1:$LDAP_PORT/" urls="ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/"
  if slapd_pid >/dev/null; then
    if port_open "$LDAPS_PORT"; then say "slapd already running"; return; fi
    say "slapd runs without ldaps (started by an older version of this script); restarting it"
    stop_ldap
  fi
  require_free_port "$LDAP_PORT" slapd SERVICES_LDAP_PORT
  require_free_port "$LDAPS_PORT" "slapd (ldaps)" SERVICES_LDAPS_PORT
  # The directory is rebuilt from this script on every start, so it always matches what the tests expect;
  # only the TLS material (tls/) is kept.
  if [[ -d "$dir" ]]; then find "$dir" -mindepth 1 -maxdepth 1 ! -name tls -exec rm -rf {} +; fi
  mkdir -p "$dir/conf" "$dir/data"
  ensure_ldap_tls
  write_ldap_config "$dir"
  write_ldap_data "$dir"
  { slapadd -q -n0 -F "$dir/conf" -l "$dir/config.ldif" && slapadd -q -n1 -F "$dir/conf" -l "$dir/data.ldif"; } \
    >"$dir/slapadd.log" 2>&1 || fail_with_log slapd "$dir/slapadd.log"
  if ! (ulimit -Sn 1024 && slapd -h "$urls" -F "$dir/conf"); then slapd_failed "$urls" "$dir"; fi
  # The ldaps check verifies the certificate against the test CA, as the tests' clients will.
  wait_for 10 ldapwhoami -x -H "$url" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PASSWORD" \
    && wait_for 5 env LDAPTLS_CACERT="$dir/tls/ca.crt" LDAPTLS_REQCERT=demand \
      ldapwhoami -x -H "ldaps://127.0.0.1:$LDAPS_PORT/" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PASSWORD" || {
    stop_ldap
    slapd_failed "$urls" "$dir"
  }
  say "slapd started on 127.0.0.1:$LDAP_PORT and ldaps 127.0.0.1:$LDAPS_PORT ($LDAP_BASE_DN)"
}

stop_ldap() {
  local pid
  if pid="$(slapd_pid)"; then
    terminate "$pid" slapd
    # slapd removes its pidfile last; waiting for it means the port is free for the next start.
    wait_for 5 test ! -e "$SVC/ldap/slapd.pid" || true
    say "slapd stopped"
  fi
}
