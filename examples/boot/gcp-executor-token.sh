#!/usr/bin/env bash
# fleetplane: at executor boot, read the executor token from Google Secret Manager (version alias `current`, or
# `latest` while fleetplane has never rotated the secret) and write it as EXECUTOR_FRONTEND_PASSWORD into the
# executor's env file, so an instance started after a rotation gets the token Sourcegraph accepts now rather than the
# one baked into the instance template's startup script.
#
# Run it as root from the executor.service drop-in (executor-token.conf beside this file): systemd runs it after the
# Terraform module's startup script wrote the env file and before the executor starts, and it reads the env file for
# the executor only after this script exits. On failure the executor does not start.
#
# Settings (environment):
#   FLEETPLANE_SECRET           required: projects/<project>/secrets/<secret>, or just <secret> for this VM's project
#   FLEETPLANE_ALIAS            version alias to read; default current (fleetplane's)
#   FLEETPLANE_ENV_FILE         default /etc/systemd/system/executor.env
#   FLEETPLANE_ATTEMPTS         default 6
#   FLEETPLANE_BACKOFF_SECONDS  first pause between attempts, doubled each time up to 30; default 2
# Needs bash, coreutils, sed, awk and curl. The VM's service account needs roles/secretmanager.secretAccessor on the
# secret, and the instance its access scope https://www.googleapis.com/auth/cloud-platform (Secret Manager accepts no
# narrower scope).
# For tests only, defaults real: SECRET_MANAGER_ENDPOINT (https://secretmanager.googleapis.com), GCE_METADATA_HOST
# (metadata.google.internal).

# Never trace, even when started with `bash -x` or an exported SHELLOPTS: a traced line could show the token.
set +x
set -u -o pipefail
umask 077
export LC_ALL=C

readonly PROG=fleetplane-executor-token
readonly ENV_FILE=${FLEETPLANE_ENV_FILE:-/etc/systemd/system/executor.env}
readonly ATTEMPTS=${FLEETPLANE_ATTEMPTS:-6}
readonly BACKOFF=${FLEETPLANE_BACKOFF_SECONDS:-2}
readonly ALIAS=${FLEETPLANE_ALIAS:-current}
readonly ENDPOINT=${SECRET_MANAGER_ENDPOINT:-https://secretmanager.googleapis.com}
readonly METADATA=http://${GCE_METADATA_HOST:-metadata.google.internal}/computeMetadata/v1
# Bounds for one call, in seconds: a boot must not hang on a black-holed route.
readonly CONNECT_TIMEOUT=5
readonly MAX_TIME=10

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

# A JSON string field of a response body, for the flat answers read here (no jq on the executor image). Only the
# characters the field may hold are matched, so nothing else of the body can leak into the value.
json_field() {
  local name=$1 charset=$2 file=$3
  tr -d '\r\n' <"$file" | sed -n "s#.*\"$name\"[[:space:]]*:[[:space:]]*\"\\($charset*\\)\".*#\\1#p"
}

[[ $ATTEMPTS =~ ^[1-9][0-9]*$ ]] || die "FLEETPLANE_ATTEMPTS must be a positive whole number"
[[ $BACKOFF =~ ^[0-9]+$ ]] || die "FLEETPLANE_BACKOFF_SECONDS must be a whole number of seconds"
[[ $ALIAS =~ ^[A-Za-z][A-Za-z0-9_-]{0,62}$ ]] || die "FLEETPLANE_ALIAS is not a version alias"
secret=${FLEETPLANE_SECRET:-}
[[ -n $secret ]] || die 'FLEETPLANE_SECRET is not set: give projects/<project>/secrets/<secret> of the executor token'
if [[ ! $secret =~ ^projects/[a-z0-9.:-]+/secrets/[A-Za-z0-9_-]+$ && ! $secret =~ ^[A-Za-z0-9_-]+$ ]]; then
  die 'FLEETPLANE_SECRET is neither projects/<project>/secrets/<secret> nor a secret id'
fi
command -v curl >/dev/null 2>&1 || die 'curl is not installed'

work=$(mktemp -d) || die 'cannot create a temporary directory'

# The metadata server is on the VM's own link: never through a proxy.
metadata_get() {
  curl -sS --noproxy '*' --connect-timeout "$CONNECT_TIMEOUT" --max-time "$MAX_TIME" -H 'Metadata-Flavor: Google' \
    -o "$2" -w '%{http_code}' "$METADATA/$1" 2>"$work/curl-stderr"
}

curl_problem() { awk 'NF { line = $0 } END { print substr(line, 1, 200) }' "$work/curl-stderr"; }

# Google's error answers name the resource and the reason, never a payload.
google_problem() {
  local status
  status=$(json_field status '[A-Z_]' "$1")
  if grep -q -e ACCESS_TOKEN_SCOPE_INSUFFICIENT -e 'insufficient authentication scopes' "$1"; then
    status="$status (the instance's access scopes must include https://www.googleapis.com/auth/cloud-platform)"
  fi
  printf '%s' "$status"
}

failure=''
fatal=0
access_token=''
version=''
token=''

resolve_secret() {
  local code project
  [[ $secret == projects/* ]] && return 0
  code=$(metadata_get project/project-id "$work/project") || {
    failure="the metadata server did not answer: $(curl_problem)"
    return 1
  }
  [[ $code == 200 ]] || {
    failure="the metadata server answered HTTP $code for the project id"
    return 1
  }
  project=$(<"$work/project")
  [[ $project =~ ^[a-z0-9.:-]+$ ]] || {
    failure='the metadata server answered a project id that is not one'
    return 1
  }
  secret=projects/$project/secrets/$secret
}

fetch_access_token() {
  local code
  code=$(metadata_get instance/service-accounts/default/token "$work/metadata-token") || {
    failure="the metadata server did not answer: $(curl_problem)"
    return 1
  }
  [[ $code == 200 ]] || {
    failure="the metadata server answered HTTP $code for an access token"
    return 1
  }
  access_token=$(json_field access_token '[A-Za-z0-9._~+/=-]' "$work/metadata-token")
  # Checked because it goes into a curl config line: anything but a bearer token there is refused.
  [[ $access_token =~ ^[A-Za-z0-9._~+/-]+=*$ ]] || {
    failure='the metadata server answered no usable access token'
    return 1
  }
}

# Prints the HTTP status of AccessSecretVersion for one alias; the body lands in $work/body. The bearer token goes to
# curl on stdin, never on its command line where any local user could read it.
access_version() {
  printf 'header = "Authorization: Bearer %s"\n' "$access_token" |
    curl -sS --config - --connect-timeout "$CONNECT_TIMEOUT" --max-time "$MAX_TIME" \
      -o "$work/body" -w '%{http_code}' "$ENDPOINT/v1/$secret/versions/$1:access" 2>"$work/curl-stderr"
}

fetch() {
  local alias code data
  resolve_secret && fetch_access_token || return 1
  for alias in "$ALIAS" latest; do
    code=$(access_version "$alias") || {
      failure="Secret Manager did not answer: $(curl_problem)"
      return 1
    }
    if [[ $code == 404 && $alias != latest ]]; then
      # Before fleetplane's first rotation the secret has no `current` alias: its newest version is the token.
      say "$secret has no version alias $alias (not rotated by fleetplane yet): reading latest"
      continue
    fi
    if [[ $code != 200 ]]; then
      failure="Secret Manager answered HTTP $code $(google_problem "$work/body") for $secret/versions/$alias"
      return 1
    fi
    data=$(json_field data '[A-Za-z0-9+/=]' "$work/body")
    version=$(json_field name '[A-Za-z0-9._:/-]' "$work/body")
    # `$(…)` drops trailing newlines, so a value stored with one (`echo token | gcloud secrets versions add`) works.
    if [[ -z $data ]] || ! token=$(printf '%s' "$data" | base64 -d 2>/dev/null); then
      failure="$secret/versions/$alias answered no base64 payload"
      fatal=1
      return 1
    fi
    return 0
  done
}

# At boot the network, DNS or a just-granted role can lag the first calls, so failures are retried with a growing
# pause; a payload that is not a token would read the same every time and is refused at once.
attempt=1
pause=$BACKOFF
until fetch; do
  if ((fatal || attempt >= ATTEMPTS)); then
    die "giving up after $attempt attempts: $failure; $ENV_FILE is unchanged and the executor will not start"
  fi
  say "attempt $attempt of $ATTEMPTS: $failure; retrying in ${pause}s"
  sleep "$pause"
  attempt=$((attempt + 1))
  pause=$((pause * 2 > 30 ? 30 : pause * 2))
done

problem=$(token_problem "$token")
[[ -z $problem ]] || die "the value of ${version:-$secret} $problem; $ENV_FILE is unchanged"

write_env_file "$token"
say "wrote EXECUTOR_FRONTEND_PASSWORD from ${version:-$secret} to $ENV_FILE"
