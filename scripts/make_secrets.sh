#!/bin/sh
# Write the secrets that compose hands to the services (docs/operations.md, "Secrets"), one file each in
# DIR (default ./secrets, or SECRETS_DIR), random. A file that exists is kept, so this is safe to re-run;
# delete a file and re-run to replace that secret. BROKER=rabbitmq writes broker_url for the rabbitmq
# profile (with the generated RabbitMQ password); otherwise broker_url is empty: Celery uses Redis.
#
#   make secrets              BROKER=rabbitmq make secrets
#
# The directory is private to root on the host; the files are readable (0644) because compose bind-mounts
# them into containers whose processes run as other users.
set -eu
dir=${1:-${SECRETS_DIR:-secrets}}
mkdir -p "$dir"
chmod 700 "$dir"
random() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
write() {
  if [ ! -e "$dir/$1" ]; then
    printf '%s\n' "$2" >"$dir/$1"
    chmod 644 "$dir/$1"
    echo "wrote $dir/$1"
  fi
}
write ingest_api_keys "wire:$(random)"
write publish_api_key "$(random)"
write redis_password "$(random)"
write rabbitmq_password "$(random)"
if [ "${BROKER:-redis}" = rabbitmq ]; then
  write broker_url "amqp://${RABBITMQ_DEFAULT_USER:-newsflow}:$(cat "$dir/rabbitmq_password")@rabbitmq:5672//"
else
  write broker_url ""
fi
