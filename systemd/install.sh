#!/usr/bin/env bash
# Installs (or removes) the medtel agent on a Debian/Ubuntu gateway, or the collector on a
# single host: system user, directories, the application, config from a template, udev rule,
# systemd unit. Idempotent: run it again to upgrade; an existing config is never overwritten.
# With --root DIR everything is laid down under DIR and nothing is started, so CI can check
# every file without systemd as PID 1. See docs/install-gateway.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: install.sh [options]

  --from DIR            the built medtel tree to install (default: the checkout holding this script;
                        it must contain agent/dist, collector/dist and node_modules: run
                        `npm ci && npm run build` there, or unpack a bundle)
  --collector           install the collector (single host) instead of the agent
  --gateway-id ID       the gateway's id (agent config; default: this host's short name)
  --site SITE           the site id (agent config; default: site-1)
  --collector-url URL   where the collector's MQTT listener is (default: mqtt://127.0.0.1:1883)
  --secret-file FILE    copy the gateway secret from FILE to /etc/medtel/gateway.secret (0640)
  --ca-file FILE        the CA that signed the collector's certificate (for mqtts://), copied to
                        /etc/medtel/collector-ca.pem and named in the new config
  --cert-file FILE, --key-file FILE
                        this gateway's client certificate and key for mutual TLS (gateway.crt, gateway.key)
  --prefix DIR          where the application goes (default: /opt/medtel)
  --root DIR            lay everything down under DIR; start nothing (for CI and image builds)
  --no-start            install and enable, but do not start the service now
  --uninstall           stop and remove the service and the application; keep config and data
                        (the outbox and the PHI keyring)
  --purge               with --uninstall: also remove config, data (the outbox and the PHI keyring!)
                        and the user
  -h, --help            this text
EOF
}

ROOT=""
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROLE=agent
GATEWAY_ID="$(hostname -s 2>/dev/null || echo gateway-1)"
SITE=site-1
COLLECTOR_URL="mqtt://127.0.0.1:1883"
SECRET_FILE=""
CA_FILE=""
CERT_FILE=""
KEY_FILE=""
PREFIX=/opt/medtel
START=yes
ACTION=install
PURGE=no

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while (($#)); do
  case "$1" in
    --from) FROM="$(cd "${2:?--from needs a directory}" && pwd)"; shift 2 ;;
    --collector) ROLE=collector; shift ;;
    --gateway-id) GATEWAY_ID="${2:?--gateway-id needs a value}"; shift 2 ;;
    --site) SITE="${2:?--site needs a value}"; shift 2 ;;
    --collector-url) COLLECTOR_URL="${2:?--collector-url needs a value}"; shift 2 ;;
    --secret-file) SECRET_FILE="${2:?--secret-file needs a file}"; shift 2 ;;
    --ca-file) CA_FILE="${2:?--ca-file needs a file}"; shift 2 ;;
    --cert-file) CERT_FILE="${2:?--cert-file needs a file}"; shift 2 ;;
    --key-file) KEY_FILE="${2:?--key-file needs a file}"; shift 2 ;;
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --root) ROOT="$(mkdir -p "${2:?--root needs a directory}" && cd "$2" && pwd)"; shift 2 ;;
    --no-start) START=no; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

ID_RE='^[A-Za-z0-9_-]{1,64}$'
[[ "$GATEWAY_ID" =~ $ID_RE ]] || die "--gateway-id: \"$GATEWAY_ID\" must be 1-64 letters, digits, _ or -"
[[ "$SITE" =~ $ID_RE ]] || die "--site: \"$SITE\" must be 1-64 letters, digits, _ or -"
[[ "$COLLECTOR_URL" =~ ^mqtts?://[^/]+$ ]] || die "--collector-url: \"$COLLECTOR_URL\" must look like mqtt://host:1883 or mqtts://host:8883"
[[ "$PREFIX" == /* ]] || die "--prefix: must be an absolute path"
[[ -z "$CERT_FILE" && -z "$KEY_FILE" || -n "$CERT_FILE" && -n "$KEY_FILE" ]] || die "--cert-file and --key-file go together"
for f in "$SECRET_FILE" "$CA_FILE" "$CERT_FILE" "$KEY_FILE"; do [[ -z "$f" || -r "$f" ]] || die "cannot read $f"; done
if [[ -z "$ROOT" && $(id -u) -ne 0 ]]; then die "run as root (or use --root DIR to lay the files down in a scratch directory)"; fi

UNIT="medtel-$ROLE.service"
USER_NAME=medtel
ETC="$ROOT/etc/medtel"
if [[ $ROLE == agent ]]; then STATE="$ROOT/var/lib/medtel"; else STATE="$ROOT/var/lib/medtel-collector"; fi
UNIT_FILE="$ROOT/etc/systemd/system/$UNIT"
UDEV_RULE="$ROOT/etc/udev/rules.d/99-medtel-serial.rules"
live_systemd() { [[ -z "$ROOT" && -d /run/systemd/system ]]; }

# systemctl works on a directory tree with --root (it writes the enable symlinks there).
systemctl_() {
  if [[ -n "$ROOT" ]]; then systemctl --root="$ROOT" "$@"; elif live_systemd; then systemctl "$@"; else say "no systemd running: skipped systemctl $*"; fi
}

# Owner changes need root and the user to exist; under --root (CI, image builds) modes are kept
# and ownership is left to the image's first boot.
own() { if [[ -z "$ROOT" ]]; then chown "$1" "$2"; fi; }

ensure_user() {
  if [[ -z "$ROOT" ]]; then
    getent group dialout >/dev/null || groupadd --system dialout
    if ! getent passwd "$USER_NAME" >/dev/null; then
      useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
      say "created system user $USER_NAME"
    fi
  else
    # The same entries useradd would write, into the tree's own account files.
    mkdir -p "$ROOT/etc"
    touch "$ROOT/etc/passwd" "$ROOT/etc/group"
    grep -q "^dialout:" "$ROOT/etc/group" || echo "dialout:x:20:" >>"$ROOT/etc/group"
    grep -q "^$USER_NAME:" "$ROOT/etc/group" || echo "$USER_NAME:x:990:" >>"$ROOT/etc/group"
    grep -q "^$USER_NAME:" "$ROOT/etc/passwd" || echo "$USER_NAME:x:990:990:medtel:/nonexistent:/usr/sbin/nologin" >>"$ROOT/etc/passwd"
  fi
}

find_node() {
  local node
  node="$(command -v node || true)"
  [[ -n "$node" ]] || die "node not found: install Node.js 20.19 or later (Debian: the nodejs package from NodeSource)"
  local version
  version="$("$node" -p 'process.versions.node')"
  "$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    die "node $version at $node is too old: medtel needs 20.19 or later"
  echo "$node"
}

app_version() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$FROM/package.json" | head -1; }

install_app() {
  [[ -f "$FROM/$ROLE/dist/cli.js" ]] || die "--from $FROM: $ROLE/dist/cli.js missing; run npm ci && npm run build there first"
  [[ -d "$FROM/node_modules" ]] || die "--from $FROM: node_modules missing; run npm ci there first"
  local version dest
  version="$(app_version)"
  [[ -n "$version" ]] || die "--from $FROM: no version in package.json"
  dest="$ROOT$PREFIX/$version"
  mkdir -p "$dest"
  # What runs: the workspaces' dist and profiles, docs, and the dependencies. Not sources or tests.
  for part in package.json node_modules shared simulators agent collector docs systemd; do
    [[ -e "$FROM/$part" ]] || continue
    rm -rf "${dest:?}/$part"
    if [[ $part == shared || $part == simulators || $part == agent || $part == collector ]]; then
      mkdir -p "$dest/$part"
      for sub in package.json dist profiles node_modules; do [[ -e "$FROM/$part/$sub" ]] && cp -a "$FROM/$part/$sub" "$dest/$part/"; done
    else
      cp -a "$FROM/$part" "$dest/"
    fi
  done
  chmod -R go-w "$dest"
  ln -sfn "$version" "$ROOT$PREFIX/current"
  say "installed medtel $version in $PREFIX/$version ($PREFIX/current)"
}

# The collector.tls line of the agent config: what the TLS files given on the command line name.
tls_line() {
  local parts=()
  [[ -n "$CA_FILE" ]] && parts+=("caFile: /etc/medtel/collector-ca.pem")
  [[ -n "$CERT_FILE" ]] && parts+=("certFile: /etc/medtel/gateway.crt" "keyFile: /etc/medtel/gateway.key")
  ((${#parts[@]})) || return 0
  local IFS=,
  echo "  tls: { ${parts[*]} }" | sed 's/,/, /g'
}

render() { # template -> file, replacing @KEY@ from the environment of this script
  local tls
  tls="$(tls_line)"
  sed -e "s#@GATEWAY_ID@#$GATEWAY_ID#g" -e "s#@SITE@#$SITE#g" -e "s#@COLLECTOR_URL@#$COLLECTOR_URL#g" -e "s#@NODE@#$NODE#g" -e "s#@PREFIX@#$PREFIX#g" \
    -e "s#^@TLS_LINE@\$#$tls#" -e '/^$/{N;/^\n$/D}' "$1" >"$2"
}

write_config() {
  install -d -m 0750 "$ETC"
  own "root:$USER_NAME" "$ETC"
  install -d -m 0700 "$STATE"
  own "$USER_NAME:$USER_NAME" "$STATE"
  if [[ $ROLE == agent ]]; then
    if [[ -e "$ETC/agent.yaml" ]]; then
      say "kept the existing /etc/medtel/agent.yaml"
    else
      render "$FROM/systemd/agent.yaml.template" "$ETC/agent.yaml"
      chmod 0640 "$ETC/agent.yaml"
      own "root:$USER_NAME" "$ETC/agent.yaml"
      say "wrote /etc/medtel/agent.yaml for gateway $GATEWAY_ID of site $SITE (add its devices)"
    fi
    if [[ -n "$SECRET_FILE" ]]; then
      install -m 0640 "$SECRET_FILE" "$ETC/gateway.secret"
      own "root:$USER_NAME" "$ETC/gateway.secret"
      say "installed the gateway secret"
    elif [[ ! -e "$ETC/gateway.secret" ]]; then
      say "no gateway secret yet: put the one the collector's administrator gives you in /etc/medtel/gateway.secret (mode 0640)"
    fi
    if [[ -n "$CA_FILE" ]]; then install -m 0644 "$CA_FILE" "$ETC/collector-ca.pem"; say "installed the collector's CA"; fi
    if [[ -n "$CERT_FILE" ]]; then
      install -m 0644 "$CERT_FILE" "$ETC/gateway.crt"
      install -m 0640 "$KEY_FILE" "$ETC/gateway.key"
      own "root:$USER_NAME" "$ETC/gateway.key"
      say "installed the gateway's client certificate and key (mutual TLS)"
    fi
    install -D -m 0644 "$FROM/systemd/99-medtel-serial.rules" "$UDEV_RULE"
    if [[ -z "$ROOT" ]] && command -v udevadm >/dev/null; then udevadm control --reload-rules || true; fi
  elif [[ ! -e "$ETC/collector.yaml" ]]; then
    say "no /etc/medtel/collector.yaml yet: write one (docs/configuration.md), then: systemctl start $UNIT"
    START=no
  fi
}

# The PHI keyring (docs/phi.md) lives in the state directory, not /etc: the agent writes its
# usage counter beside it and /etc is read-only to the service. Created once, never replaced:
# a lost or overwritten key makes every envelope sealed with it unreadable.
ensure_keyring() {
  local keyring="$STATE/keyring.json"
  if [[ -e "$keyring" ]]; then
    say "kept the existing PHI keyring ${keyring#"$ROOT"}"
    return 0
  fi
  "$NODE" "$ROOT$PREFIX/current/agent/dist/cli.js" keys init --keyring "$keyring" | sed 's/^/install.sh: /'
  chmod 0600 "$keyring"
  own "$USER_NAME:$USER_NAME" "$keyring"
}

install_unit() {
  install -d -m 0755 "$(dirname "$UNIT_FILE")"
  render "$FROM/systemd/$UNIT" "$UNIT_FILE"
  chmod 0644 "$UNIT_FILE"
  systemctl_ daemon-reload 2>/dev/null || true
  systemctl_ enable "$UNIT"
  if [[ $START == yes ]] && live_systemd; then
    systemctl restart "$UNIT"
    say "started $UNIT (journalctl -u $UNIT -f)"
  else
    say "installed and enabled $UNIT; start it with: systemctl start $UNIT"
  fi
}

uninstall() {
  if [[ -e "$UNIT_FILE" ]]; then
    if live_systemd; then systemctl disable --now "$UNIT" || true; else systemctl_ disable "$UNIT" || true; fi
    rm -f "$UNIT_FILE"
    systemctl_ daemon-reload 2>/dev/null || true
  fi
  rm -f "$UDEV_RULE"
  rm -rf "${ROOT:?}$PREFIX" 2>/dev/null || rm -rf "$PREFIX"
  say "removed $UNIT and $PREFIX"
  if [[ $PURGE == yes ]]; then
    rm -rf "$ETC" "$STATE"
    if [[ -z "$ROOT" ]]; then userdel "$USER_NAME" 2>/dev/null || true; else sed -i "/^$USER_NAME:/d" "$ROOT/etc/passwd" "$ROOT/etc/group"; fi
    say "purged /etc/medtel, $(basename "$STATE") data (with the PHI keyring, if any) and the $USER_NAME user"
  else
    # The outbox may still hold messages the collector never confirmed.
    say "kept /etc/medtel and ${STATE#"$ROOT"} (the outbox may hold undelivered data, the PHI keyring opens sealed data); --purge removes them"
  fi
}

if [[ $ACTION == uninstall ]]; then
  uninstall
  exit 0
fi
NODE="$(find_node)"
ensure_user
install_app
write_config
if [[ $ROLE == agent ]]; then ensure_keyring; fi
install_unit
