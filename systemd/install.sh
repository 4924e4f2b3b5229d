#!/bin/bash
# Installs or upgrades PIAS Vessel on a Debian computer with systemd.
#
#   sudo systemd/install.sh [--terminal tty2]... [--display tty3]... [--config ship.toml]
#
# One run puts in place: the Debian packages it needs, the program in its own
# Python environment (/opt/pias/venv, built from this checkout), the system
# user `pias`, the data folder /var/lib/pias and the settings folder /etc/pias
# with safe modes, and the systemd units, enabled and started. Running it
# again upgrades the program (after a backup of the ship's data) and never
# overwrites the configuration, the keys or the data.
#
# --root DIR (or DESTDIR=DIR) installs into DIR as if it were the root of
# another system: apt-get and the running service manager are left alone,
# and what they would have been asked is written to the installation record,
# /opt/pias/install-record.txt. The user, the folders and the enabled units
# are made inside DIR by the same systemd tools, with their own --root.
# See docs/admin-guide.md.

set -euo pipefail
umask 022

readonly PREFIX=/opt/pias
readonly SHIP_HOME=/var/lib/pias
readonly BACKUPS=/var/backups/pias
readonly UNIT_DIR=/usr/local/lib/systemd/system
readonly APT_PACKAGES=(python3 python3-venv espeak-ng alsa-utils)
readonly SERVICE_UNITS=(pias-gps.service pias-offload.timer pias-offload.service media-pias.mount)
readonly UNIT_FILES=(pias-gps.service pias-terminal@.service pias-display@.service
                     pias-offload.service pias-offload.timer media-pias.mount)

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
    cat <<EOF
Usage: install.sh [OPTIONS]

Installs or upgrades PIAS Vessel from this checkout ($SRC).

  --terminal TTY     run a PIAS terminal on TTY (e.g. tty2, ttyUSB1); repeatable
  --display TTY      run the public display on TTY (e.g. tty3); repeatable
                     (first install without either: terminal on tty2, display on tty3)
  --config FILE      create the ship's home from this ship.toml if there is none yet
                     (the first coordinator's PIN is read from \$PIAS_PIN, or asked)
  --gps-port PATH    GPS serial device for a new /etc/pias/pias.env
  --offload-to DIR|URL  offload target for a new /etc/pias/pias.env
  --wheels DIR       install Python packages only from this folder (no network)
  --python PATH      Python 3.11 or newer for the environment (default: python3)
  --no-start         enable the units but do not start or restart them
  --root DIR         install into DIR instead of / (also: DESTDIR=DIR)
  -h, --help         this help
EOF
}

ROOT=${DESTDIR:-/}
CONFIG=""
GPS_PORT=""
OFFLOAD_TO=""
WHEELS=""
PYTHON=python3
NO_START=0
TERMINALS=()
DISPLAYS=()

die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'install.sh: %s\n' "$*"; }

value_of() {
    [ $# -ge 2 ] && [ -n "$2" ] || { printf 'install.sh: %s needs a value\n' "$1" >&2; usage >&2; exit 2; }
    printf '%s' "$2"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=$(value_of "$@"); shift 2 ;;
        --root=*) ROOT=${1#*=}; shift ;;
        --config) CONFIG=$(value_of "$@"); shift 2 ;;
        --gps-port) GPS_PORT=$(value_of "$@"); shift 2 ;;
        --offload-to) OFFLOAD_TO=$(value_of "$@"); shift 2 ;;
        --wheels) WHEELS=$(value_of "$@"); shift 2 ;;
        --python) PYTHON=$(value_of "$@"); shift 2 ;;
        --terminal) TERMINALS+=("$(value_of "$@")"); shift 2 ;;
        --display) DISPLAYS+=("$(value_of "$@")"); shift 2 ;;
        --no-start) NO_START=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'install.sh: unknown option %s\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
done

for tty in ${TERMINALS[@]+"${TERMINALS[@]}"} ${DISPLAYS[@]+"${DISPLAYS[@]}"}; do
    [[ "$tty" =~ ^tty[A-Za-z0-9]+$ ]] || die "not a console or serial line name: $tty (e.g. tty2, ttyS0, ttyUSB1)"
done
[ -z "$CONFIG" ] || [ -f "$CONFIG" ] || die "no such config file: $CONFIG"
[ -z "$WHEELS" ] || [ -d "$WHEELS" ] || die "no such folder: $WHEELS"
[ -f "$SRC/pyproject.toml" ] && [ -d "$SRC/vessel" ] || die "$SRC is not a PIAS Vessel checkout"
[ -z "$CONFIG" ] || CONFIG=$(realpath "$CONFIG")
[ -z "$WHEELS" ] || WHEELS=$(realpath "$WHEELS")

ROOT=$(realpath -m "$ROOT")
# Root even with --root: files are handed to the pias user by number.
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 ...)"
if [ "$ROOT" = / ]; then
    OFFLINE=0
    [ -r /etc/debian_version ] || die "this installer is for Debian and its derivatives"
else
    OFFLINE=1
    [ -d "$ROOT" ] || die "no such folder: $ROOT"
fi
command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null \
    && command -v systemctl >/dev/null || die "systemd is needed (apt-get install systemd)"

# r PATH: PATH inside the target root.
r() { printf '%s%s' "${ROOT%/}" "$1"; }

RECORD=()
record() { RECORD+=("$*"); }

VENV=$(r "$PREFIX/venv")
HOME_DIR=$(r "$SHIP_HOME")
ENV_FILE=$(r /etc/pias/pias.env)
RECORD_FILE=$(r "$PREFIX/install-record.txt")
FIRST_INSTALL=1
[ -e "$RECORD_FILE" ] && FIRST_INSTALL=0
HAD_HOME=0
[ -f "$HOME_DIR/ship.toml" ] && [ -f "$HOME_DIR/pias.db" ] && HAD_HOME=1

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# --- 1. Debian packages ------------------------------------------------------------------------
if [ "$OFFLINE" = 1 ]; then
    record "apt-get: skipped (--root): apt-get install --no-install-recommends ${APT_PACKAGES[*]}"
else
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
        record "apt-get: installed ${missing[*]}"
    else
        record "apt-get: nothing to install (${APT_PACKAGES[*]} present)"
    fi
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "$PYTHON is not Python 3.11 or newer"

# --- 2. files of ours: units, user and folder declarations, docs --------------------------------
# put SRC DEST MODE: install a file of ours, only when its content changed.
put() {
    local src=$1 dest=$2 mode=$3
    mkdir -p "$(dirname "$dest")"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        chmod "$mode" "$dest"
        record "file: unchanged ${dest#"${ROOT%/}"}"
    else
        install -m "$mode" "$src" "$dest.new"
        mv -f "$dest.new" "$dest"
        record "file: installed ${dest#"${ROOT%/}"} $(sha256sum "$dest" | cut -d' ' -f1)"
    fi
}

for unit in "${UNIT_FILES[@]}"; do
    put "$SRC/systemd/$unit" "$(r "$UNIT_DIR/$unit")" 0644
done
put "$SRC/systemd/pias-sysusers.conf" "$(r /usr/local/lib/sysusers.d/pias.conf)" 0644
put "$SRC/systemd/pias-tmpfiles.conf" "$(r /usr/local/lib/tmpfiles.d/pias.conf)" 0644
for doc in "$SRC"/docs/*.md; do
    [ -e "$doc" ] && put "$doc" "$(r "$PREFIX/docs/$(basename "$doc")")" 0644
done

# --- 3. the system user and the folders ---------------------------------------------------------
mkdir -p "$(r /etc)"
if [ "$OFFLINE" = 1 ]; then
    systemd-sysusers --root="$ROOT" pias.conf
    systemd-tmpfiles --root="$ROOT" --create pias.conf
else
    systemd-sysusers pias.conf
    systemd-tmpfiles --create pias.conf
fi
PIAS_IDS=$(awk -F: '$1 == "pias" { print $3 ":" $4 }' "$(r /etc/passwd)")
[ -n "$PIAS_IDS" ] || die "the user pias was not created in $(r /etc/passwd)"
PIAS_GID=${PIAS_IDS#*:}
record "user: pias $PIAS_IDS home $SHIP_HOME shell /usr/sbin/nologin"

# as_pias CMD...: run a command of the program as the pias user. Inside --root
# that user exists only in the target's files, so the command runs as the
# caller and what it wrote is handed to pias afterwards (see fix_home).
as_pias() {
    if [ "$OFFLINE" = 1 ]; then
        env PIAS_HOME="$HOME_DIR" "$@"
    else
        runuser -u pias -- env PIAS_HOME="$SHIP_HOME" "$@"
    fi
}

# fix_home: owner and modes of the home, keys included; contents are never touched.
fix_home() {
    [ -d "$HOME_DIR" ] || return 0
    chown -R --no-dereference "$PIAS_IDS" "$HOME_DIR"
    chmod 0750 "$HOME_DIR"
    if [ -d "$HOME_DIR/keys" ]; then
        find "$HOME_DIR/keys" -type d -exec chmod 0700 {} +
        find "$HOME_DIR/keys" -type f -exec chmod 0600 {} +
    fi
    for f in "$HOME_DIR"/pias.db*; do
        [ -f "$f" ] && chmod 0600 "$f"
    done
    [ -f "$HOME_DIR/ship.toml" ] && chmod 0640 "$HOME_DIR/ship.toml"
    return 0
}

# --- 4. a backup of the ship before the program changes ------------------------------------------
if [ "$HAD_HOME" = 1 ] && [ -x "$VENV/bin/pias" ] && "$VENV/bin/pias" backup --help >/dev/null 2>&1; then
    before=$(find "$(r "$BACKUPS")" -mindepth 1 -maxdepth 1 -name 'pias-backup-*' | wc -l)
    as_pias "$VENV/bin/pias" --home "$(if [ "$OFFLINE" = 1 ]; then echo "$HOME_DIR"; else echo "$SHIP_HOME"; fi)" \
        backup --to "$(r "$BACKUPS")" || die "the backup before the upgrade failed; nothing was upgraded"
    chown -R --no-dereference "$PIAS_IDS" "$(r "$BACKUPS")"
    record "backup: taken before the upgrade in $BACKUPS ($before earlier)"
else
    record "backup: none needed (no ship yet, or no earlier program)"
fi

# --- 5. the program in its own Python environment ------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "creating the Python environment $PREFIX/venv"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    record "venv: created $PREFIX/venv with $("$VENV/bin/python" -V 2>&1)"
else
    record "venv: kept $PREFIX/venv ($("$VENV/bin/python" -V 2>&1))"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input --quiet)
[ -z "$WHEELS" ] || PIP_SOURCE=(--no-index --find-links "$WHEELS")
say "building and installing the program from $SRC"
"${PIP[@]}" wheel ${PIP_SOURCE[@]+"${PIP_SOURCE[@]}"} --no-deps --wheel-dir "$WORK/wheel" "$SRC"
WHEEL=$(ls "$WORK"/wheel/*.whl)
# Dependencies as needed, then the program itself even when its version number did not change.
"${PIP[@]}" install ${PIP_SOURCE[@]+"${PIP_SOURCE[@]}"} --upgrade "$WHEEL"
"${PIP[@]}" install ${PIP_SOURCE[@]+"${PIP_SOURCE[@]}"} --no-deps --force-reinstall "$WHEEL"
VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("pias-vessel"))')
record "program: pias-vessel $VERSION from $(basename "$WHEEL")"
"$VENV/bin/pias" --help >/dev/null || die "the installed program does not start"

# --- 6. this computer's settings: written once -------------------------------------------------
toml_value() {  # toml_value FILE TABLE KEY: a string value from a ship.toml, or nothing
    "$VENV/bin/python" - "$1" "$2" "$3" <<'PY' 2>/dev/null || true
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    value = tomllib.load(f).get(sys.argv[2], {}).get(sys.argv[3], "")
print(value if isinstance(value, str) else "")
PY
}
if [ -e "$ENV_FILE" ]; then
    record "settings: kept /etc/pias/pias.env"
else
    if [ -z "$GPS_PORT" ]; then
        for toml in "$HOME_DIR/ship.toml" "$CONFIG"; do
            [ -n "$toml" ] && [ -f "$toml" ] && GPS_PORT=$(toml_value "$toml" gps port)
            [ -n "$GPS_PORT" ] && break
        done
    fi
    GPS_PORT=${GPS_PORT:-/dev/serial/by-id/CHANGE-ME}
    OFFLOAD_TO=${OFFLOAD_TO:-/media/pias/bundles}
    case "$GPS_PORT$OFFLOAD_TO" in *[[:space:]\"\'\\]*) die "--gps-port and --offload-to may not hold spaces or quotes" ;; esac
    sed -e "s|@GPS_PORT@|$GPS_PORT|" -e "s|@OFFLOAD_TO@|$OFFLOAD_TO|" "$SRC/systemd/pias.env" > "$ENV_FILE.new"
    chown "0:$PIAS_GID" "$ENV_FILE.new"
    chmod 0640 "$ENV_FILE.new"
    mv "$ENV_FILE.new" "$ENV_FILE"
    record "settings: wrote /etc/pias/pias.env (PIAS_GPS_PORT=$GPS_PORT PIAS_OFFLOAD_TO=$OFFLOAD_TO)"
fi

# --- 7. the ship's home: created once, never overwritten ------------------------------------------
if [ -f "$HOME_DIR/ship.toml" ] || [ -f "$HOME_DIR/pias.db" ]; then
    record "home: kept $SHIP_HOME"
elif [ -n "$CONFIG" ]; then
    cp "$CONFIG" "$WORK/ship.toml"
    chmod 0644 "$WORK/ship.toml"
    chmod 0755 "$WORK"
    say "creating the ship's home $SHIP_HOME from $CONFIG"
    home_arg=$SHIP_HOME
    [ "$OFFLINE" = 1 ] && home_arg=$HOME_DIR
    as_pias "$VENV/bin/pias" --home "$home_arg" init --config "$WORK/ship.toml" ${PIAS_PIN:+--pin "$PIAS_PIN"}
    record "home: created $SHIP_HOME from $(basename "$CONFIG")"
else
    record "home: none yet (give --config, or run pias init as the pias user)"
fi
fix_home
if [ "$OFFLINE" = 1 ]; then
    systemd-tmpfiles --root="$ROOT" --create pias.conf
else
    systemd-tmpfiles --create pias.conf
fi

# The command for administrators, on the usual PATH.
LINK=$(r /usr/local/bin/pias)
if [ -L "$LINK" ] || [ ! -e "$LINK" ]; then
    mkdir -p "$(dirname "$LINK")"
    ln -sfn "$PREFIX/venv/bin/pias" "$LINK"
    record "command: /usr/local/bin/pias -> $PREFIX/venv/bin/pias"
else
    record "command: /usr/local/bin/pias is not ours, left alone"
fi

# --- 8. units: enabled, then started ----------------------------------------------------------
if [ "$FIRST_INSTALL" = 1 ] && [ ${#TERMINALS[@]} -eq 0 ] && [ ${#DISPLAYS[@]} -eq 0 ]; then
    TERMINALS=(tty2)
    DISPLAYS=(tty3)
fi
ENABLE=("${SERVICE_UNITS[@]}")
for tty in ${TERMINALS[@]+"${TERMINALS[@]}"}; do ENABLE+=("pias-terminal@$tty.service"); done
for tty in ${DISPLAYS[@]+"${DISPLAYS[@]}"}; do ENABLE+=("pias-display@$tty.service"); done

RUNNING=0
[ "$OFFLINE" = 0 ] && [ -d /run/systemd/system ] && RUNNING=1
if [ "$RUNNING" = 1 ]; then
    systemctl daemon-reload
    systemctl enable --quiet "${ENABLE[@]}"
else
    systemctl --root="$ROOT" enable --quiet "${ENABLE[@]}"
fi
record "systemctl: enabled ${ENABLE[*]}"

START=(pias-gps.service pias-offload.timer)
for tty in ${TERMINALS[@]+"${TERMINALS[@]}"}; do START+=("pias-terminal@$tty.service"); done
for tty in ${DISPLAYS[@]+"${DISPLAYS[@]}"}; do START+=("pias-display@$tty.service"); done
if [ "$NO_START" = 1 ]; then
    record "systemctl: not started (--no-start)"
elif [ "$RUNNING" = 1 ]; then
    # The GPS daemon and the displays hold no one's work: they restart on the new program
    # at once. A terminal restarts when its operator logs out (or: systemctl restart).
    systemctl try-restart pias-gps.service 'pias-display@*.service'
    systemctl start "${START[@]}"
    record "systemctl: started ${START[*]}; restarted pias-gps.service and the displays"
else
    record "systemctl: skipped (no running service manager): systemctl daemon-reload; systemctl start ${START[*]}"
fi

# --- 9. the record of this installation -------------------------------------------------------
mkdir -p "$(dirname "$RECORD_FILE")"
{
    echo "# PIAS Vessel installation record, written by systemd/install.sh at every run."
    echo "installed-at: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "version: $VERSION"
    echo "source: $(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "root: $ROOT"
    printf '%s\n' "${RECORD[@]}"
} > "$RECORD_FILE.new"
chmod 0644 "$RECORD_FILE.new"
mv "$RECORD_FILE.new" "$RECORD_FILE"

say "PIAS Vessel $VERSION installed in $ROOT (record: $PREFIX/install-record.txt)"
if [ ! -f "$HOME_DIR/ship.toml" ]; then
    say "next: sudo -u pias pias --home $SHIP_HOME init --config ship.toml"
fi
if [ ! -e "$HOME_DIR/keys/ship.key" ]; then
    say "next: sudo -u pias pias --home $SHIP_HOME keys init   (see docs/admin-guide.md, Keys)"
fi
