#!/usr/bin/env bash
# fleetplane: at executor boot, read the executor token from AWS Secrets Manager (stage AWSCURRENT) and write it as
# EXECUTOR_FRONTEND_PASSWORD into the executor's env file, so an instance started after a rotation gets the token
# Sourcegraph accepts now rather than the one baked into the launch template's user data.
#
# Run it as root from the executor.service drop-in (executor-token.conf beside this file): systemd runs it after the
# Terraform module's user data wrote the env file and before the executor starts, and it reads the env file for the
# executor only after this script exits. On failure the executor does not start.
#
# Settings (environment):
#   FLEETPLANE_SECRET_ID        required: the secret's ARN (its region is used) or name
#   FLEETPLANE_REGION           the secret's region; default the ARN's, else AWS_REGION or AWS_DEFAULT_REGION
#   FLEETPLANE_ENV_FILE         default /etc/systemd/system/executor.env
#   FLEETPLANE_ATTEMPTS         default 6
#   FLEETPLANE_BACKOFF_SECONDS  first pause between attempts, doubled each time up to 30; default 2
# Needs bash, coreutils, awk and the aws CLI (v1 or v2). The instance role needs secretsmanager:GetSecretValue on the
# secret, and kms:Decrypt on its key when that is a customer-managed key.
# For tests only: the CLI's own AWS_ENDPOINT_URL points it elsewhere; the default is the real endpoint.

# Never trace, even when started with `bash -x` or an exported SHELLOPTS: a traced line could show the token.
set +x
set -u -o pipefail
umask 077
export LC_ALL=C

readonly PROG=fleetplane-executor-token
readonly ENV_FILE=${FLEETPLANE_ENV_FILE:-/etc/systemd/system/executor.env}
readonly ATTEMPTS=${FLEETPLANE_ATTEMPTS:-6}
readonly BACKOFF=${FLEETPLANE_BACKOFF_SECONDS:-2}
# Bounds for one call, in seconds: a boot must not hang on a black-holed route.
readonly CONNECT_TIMEOUT=5
readonly READ_TIMEOUT=10

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  say "$*"
  exit 1
}

work=''
pending=''
cleanup() {
  [[ -n $work ]] && rm -rf -- "$work"
  [[ -n $pending ]] && rm -f -- "$pending"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The rules fleetplane itself applies to a new token (shared/domain/executor-token.ts): 20 to 256 printable ASCII
# characters without quotes, backslash or `$`, so the value is literal inside the env file's double quotes.
token_problem() {
  local value=$1
  if [[ $value == REDACTED || $value == REDACTED-* ]]; then
    echo 'is the redaction marker Sourcegraph answers on reads, not a token'
  elif [[ $value == *[![:graph:]]* ]]; then
    echo 'contains whitespace, a control or a non-ASCII character'
  elif [[ $value == *[\"\'\`\\\$]* ]]; then
    echo 'contains a quote, a backslash or a dollar sign'
  elif ((${#value} < 20 || ${#value} > 256)); then
    echo "must be 20 to 256 characters, not ${#value}"
  fi
}

# Replaces the EXECUTOR_FRONTEND_PASSWORD line where it stands (appends one when there is none) and keeps every other
# line byte for byte. The new file is complete before it is renamed over the old one, so the executor never reads a
# half-written file, and it is 0600 root: systemd reads it as root, nobody else needs to.
write_env_file() {
  local token=$1 dir line written=0
  dir=$(dirname -- "$ENV_FILE")
  pending=$(mktemp "$dir/.executor.env.XXXXXX") || die "cannot create a file in $dir"
  {
    if [[ -f $ENV_FILE ]]; then
      while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?EXECUTOR_FRONTEND_PASSWORD= ]]; then
          ((written)) || printf 'EXECUTOR_FRONTEND_PASSWORD="%s"\n' "$token"
          written=1
        else
          printf '%s\n' "$line"
        fi
      done <"$ENV_FILE"
    fi
    ((written)) || printf 'EXECUTOR_FRONTEND_PASSWORD="%s"\n' "$token"
  } >"$pending" || die "cannot write $pending"
  if ! { chmod 0600 -- "$pending" && mv -f -- "$pending" "$ENV_FILE"; }; then
    die "cannot replace $ENV_FILE"
  fi
  pending=''
}

# The last non-blank line of a file, shortened: what the CLI said went wrong (never a secret value, which only ever
# goes to stdout).
last_line() { awk 'NF { line = $0 } END { print substr(line, 1, 300) }' "$1"; }

[[ $ATTEMPTS =~ ^[1-9][0-9]*$ ]] || die "FLEETPLANE_ATTEMPTS must be a positive whole number"
[[ $BACKOFF =~ ^[0-9]+$ ]] || die "FLEETPLANE_BACKOFF_SECONDS must be a whole number of seconds"
secret_id=${FLEETPLANE_SECRET_ID:-}
[[ -n $secret_id ]] || die 'FLEETPLANE_SECRET_ID is not set: give the ARN (or name) of the executor token secret'
[[ $secret_id =~ ^[A-Za-z0-9/_+=.@:-]+$ ]] || die "FLEETPLANE_SECRET_ID is not a secret name or ARN"

# An ARN names the secret's region for certain, so it wins over the environment's default region.
region=${FLEETPLANE_REGION:-}
if [[ -z $region && $secret_id =~ ^arn:[^:]+:secretsmanager:([^:]+): ]]; then
  region=${BASH_REMATCH[1]}
fi
region=${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
# CLI v1 does not look the region up from the instance metadata, so it has to come from here.
[[ -n $region ]] || die 'no region: give FLEETPLANE_SECRET_ID as an ARN, or set FLEETPLANE_REGION'
[[ $region =~ ^[a-z0-9-]+$ ]] || die "FLEETPLANE_REGION is not a region name"

command -v aws >/dev/null 2>&1 || die 'the aws CLI is not installed: add it to the executor image'

work=$(mktemp -d) || die 'cannot create a temporary directory'

token=''
fetch() {
  local value
  # Only the secret's id goes on the command line; the value comes back on stdout, into this shell.
  # Two tries inside the CLI at most, so that the attempts below bound the whole run (see executor-token.conf).
  if value=$(AWS_PAGER='' AWS_MAX_ATTEMPTS=2 aws secretsmanager get-secret-value --secret-id "$secret_id" --version-stage AWSCURRENT \
    --query SecretString --output text --region "$region" \
    --cli-connect-timeout "$CONNECT_TIMEOUT" --cli-read-timeout "$READ_TIMEOUT" 2>"$work/aws-stderr"); then
    token=$value
    return 0
  fi
  failure="aws secretsmanager get-secret-value failed: $(last_line "$work/aws-stderr")"
  return 1
}

# At boot the network, DNS or a just-attached instance role can lag the first calls, so failures are retried with a
# growing pause; a value that is not a token would read the same every time and is refused at once.
failure=''
attempt=1
pause=$BACKOFF
until fetch; do
  if ((attempt >= ATTEMPTS)); then
    die "giving up after $attempt attempts: $failure; $ENV_FILE is unchanged and the executor will not start"
  fi
  say "attempt $attempt of $ATTEMPTS: $failure; retrying in ${pause}s"
  sleep "$pause"
  attempt=$((attempt + 1))
  pause=$((pause * 2 > 30 ? 30 : pause * 2))
done

problem=$(token_problem "$token")
# `--output text` prints None when the secret has no SecretString (a binary secret), which the length rule refuses.
[[ -z $problem ]] || die "the AWSCURRENT value of $secret_id $problem; $ENV_FILE is unchanged"

write_env_file "$token"
say "wrote EXECUTOR_FRONTEND_PASSWORD from $secret_id (AWSCURRENT) to $ENV_FILE"
