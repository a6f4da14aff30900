#!/bin/sh
# Writes random credentials for compose.yaml into ./secrets, once; existing files are kept.
# The folder is private to you (700); the files inside are world-readable (644) because Compose
# bind-mounts them with their host permissions and the services run as unprivileged users
# (market-pulse, postgres, rabbitmq) that must read them.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 700 secrets
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
# The server's superuser (the one-shot `roles` service only) and one password per role.
for name in postgres owner app readonly dagster rabbitmq admin; do
  [ -f "secrets/${name}_password" ] || random > "secrets/${name}_password"
done
pg=$(cat secrets/postgres_password)
mq=$(cat secrets/rabbitmq_password)
[ -f secrets/superuser_url ] || \
  printf 'postgresql://postgres:%s@postgres:5432/postgres\n' "$pg" > secrets/superuser_url
# A Fernet key (32 random bytes, urlsafe base64): encrypts vendor sessions and notification targets.
[ -f secrets/secret_key ] || \
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' > secrets/secret_key
[ -f secrets/broker_url ] || \
  printf 'amqp://market_pulse:%s@rabbitmq:5672/market_pulse\n' "$mq" > secrets/broker_url
[ -f secrets/rabbitmq.conf ] || \
  printf 'default_user = market_pulse\ndefault_pass = %s\ndefault_vhost = market_pulse\n' "$mq" > secrets/rabbitmq.conf
chmod 644 secrets/*
echo "secrets in $(pwd)/secrets"
