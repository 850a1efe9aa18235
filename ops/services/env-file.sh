# The env file the tests read: where each service listens and its test-only credentials. Sourced by ops/services.sh.

write_env() {
  local uid given sn agency password
  IFS='|' read -r uid given sn agency password <<<"${LDAP_AGENTS[0]}"
  # Values hold no spaces or shell metacharacters, so the file is both sourceable and trivially parsed.
  cat >"$ENV_FILE.tmp" <<EOF
TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
TEST_PG_BIN_DIR=$PG_BIN
TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
TEST_REDIS_SERVER_BIN=$REDIS_SERVER_BIN
TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT
TEST_RABBITMQ_NODE=$RABBIT_NODE
TEST_RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$AMQP_MGMT_PORT
TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
TEST_S3_SECRET_KEY=$S3_SECRET_KEY
TEST_S3_BUCKET=$S3_BUCKET
TEST_LDAP_URL=ldap://127.0.0.1:$LDAP_PORT
TEST_LDAPS_URL=ldaps://127.0.0.1:$LDAPS_PORT
TEST_LDAP_CA_FILE=$SVC/ldap/tls/ca.crt
TEST_LDAP_BASE_DN=$LDAP_BASE_DN
TEST_LDAP_BIND_DN=$LDAP_BIND_DN
TEST_LDAP_BIND_PASSWORD=$LDAP_BIND_PASSWORD
TEST_LDAP_ADMIN_DN=$LDAP_ADMIN_DN
TEST_LDAP_ADMIN_PASSWORD=$LDAP_ADMIN_PASSWORD
TEST_LDAP_AGENT_UID=$uid
TEST_LDAP_AGENT_PASSWORD=$password
TEST_LDAP_AGENT_AGENCY=$agency
TEST_PGBOUNCER_BIN=/usr/sbin/pgbouncer
TEST_SERVICES_DIR=$SVC
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}
