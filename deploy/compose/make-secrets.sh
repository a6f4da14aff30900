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
[ -f secrets/postgres_password ] || random > secrets/postgres_password
[ -f secrets/rabbitmq_password ] || random > secrets/rabbitmq_password
pg=$(cat secrets/postgres_password)
mq=$(cat secrets/rabbitmq_password)
[ -f secrets/database_url ] || \
  printf 'postgresql://market_pulse:%s@postgres:5432/market_pulse\n' "$pg" > secrets/database_url
[ -f secrets/broker_url ] || \
  printf 'amqp://market_pulse:%s@rabbitmq:5672/market_pulse\n' "$mq" > secrets/broker_url
[ -f secrets/rabbitmq.conf ] || \
  printf 'default_user = market_pulse\ndefault_pass = %s\ndefault_vhost = market_pulse\n' "$mq" > secrets/rabbitmq.conf
chmod 644 secrets/*
echo "secrets in $(pwd)/secrets"
