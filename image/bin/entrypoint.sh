#!/bin/bash
# Entrypoint of the Moodle image: one command per workload. Commands, variables and exit codes are listed
# in docs/IMAGE.md; any other command is run as given (e.g. `php admin/cli/purge_caches.php`).
set -euo pipefail

readonly EXIT_CONFIG=2
readonly EXIT_DATAROOT_NOT_WRITABLE=7

MOODLE_DIR="${MOODLE_DIR:-/var/www/moodle}"
HELPER_DIR="$(dirname "$(readlink -f "$0")")"
readonly MOODLE_DIR HELPER_DIR

log() {
    printf 'entrypoint: %s\n' "$*" >&2
}

usage() {
    log "usage: entrypoint.sh web | install-or-upgrade | cron [--once] | COMMAND [ARG...]"
    exit "$EXIT_CONFIG"
}

# The shared data directory (EFS) must accept writes from the runtime user before anything starts.
require_writable_dataroot() {
    local dataroot="${MOODLE_DATAROOT:-/var/www/moodledata}"
    local probe="$dataroot/.write-test-$HOSTNAME-$$"
    if ! (: >"$probe") 2>/dev/null; then
        log "ERROR: the shared data directory $dataroot is missing or not writable by uid $(id -u)" \
            "(is the EFS access point mounted there with uid/gid $(id -u)/$(id -g)?)"
        exit "$EXIT_DATAROOT_NOT_WRITABLE"
    fi
    rm -f "$probe"
}

# Without touching the database or Redis: a missing variable (exit 2, config.php names it) or a data
# directory that install-or-upgrade never prepared for this database (exit 8) stops the container at once,
# instead of a task that looks healthy and fails every login.
preflight() {
    require_writable_dataroot
    php "$HELPER_DIR/preflight.php"
}

# Runs php-fpm and nginx until either of them stops, then stops the other: ECS replaces a task whose
# container exits, which beats a supervisor that keeps half a web server alive.
run_web() {
    preflight
    mkdir -p "${MOODLE_LOCAL_CACHE_DIR:-/var/cache/moodle}"

    export PHP_FPM_MAX_CHILDREN="${PHP_FPM_MAX_CHILDREN:-10}"
    export PHP_FPM_START_SERVERS="${PHP_FPM_START_SERVERS:-3}"
    export PHP_FPM_MIN_SPARE_SERVERS="${PHP_FPM_MIN_SPARE_SERVERS:-2}"
    export PHP_FPM_MAX_SPARE_SERVERS="${PHP_FPM_MAX_SPARE_SERVERS:-5}"
    export PHP_FPM_MAX_REQUESTS="${PHP_FPM_MAX_REQUESTS:-500}"

    local stopping=false status=0 stopped_pid="" fpm_pid="" nginx_pid=""
    # SIGQUIT is the graceful stop of both: requests in flight are finished.
    trap 'stopping=true; kill -QUIT $fpm_pid $nginx_pid 2>/dev/null || true' TERM INT QUIT
    php-fpm --nodaemonize &
    fpm_pid=$!
    # -e: log to stderr from the start, before nginx.conf is read (Debian's default log file is root's).
    nginx -e stderr &
    nginx_pid=$!

    wait -n -p stopped_pid "$fpm_pid" "$nginx_pid" || status=$?
    if [ "$stopping" = false ]; then
        local stopped_name=nginx
        [ "$stopped_pid" != "$fpm_pid" ] || stopped_name=php-fpm
        log "ERROR: $stopped_name stopped with status $status; stopping the container"
        kill -QUIT "$fpm_pid" "$nginx_pid" 2>/dev/null || true
    fi
    # The first wait returns as soon as a signal arrives; this one waits for the graceful stop to end.
    wait "$fpm_pid" "$nginx_pid" || true
    if [ "$stopping" = true ]; then
        exit 0
    fi
    exit "$((status == 0 ? 1 : status))"
}

# Moodle's cron (through cron.php, which puts its failures on stderr in one plain line) in keep-alive mode,
# restarted after each keep-alive period; `--once` runs every due task once and returns cron's exit status.
# A failing cron run stops the container, so that ECS restarts and reports it.
run_cron() {
    [ $# -eq 0 ] || [ "$*" = "--once" ] || usage
    preflight
    if [ "${1:-}" = "--once" ]; then
        exec php "$HELPER_DIR/cron.php" --keep-alive=0
    fi

    local stopping=false status=0 cron_pid=""
    # Moodle's cron finishes the task it is running on SIGTERM.
    trap 'stopping=true; kill -TERM $cron_pid 2>/dev/null || true' TERM INT
    while true; do
        php "$HELPER_DIR/cron.php" --keep-alive="${MOODLE_CRON_KEEP_ALIVE_SECONDS:-180}" &
        cron_pid=$!
        wait "$cron_pid" || status=$?
        if [ "$stopping" = true ]; then
            wait "$cron_pid" || true
            exit 0
        fi
        if [ "$status" -ne 0 ]; then
            log "ERROR: cron exited with status $status"
            exit "$status"
        fi
    done
}

main() {
    local command="${1:-web}"
    [ $# -eq 0 ] || shift
    case "$command" in
        web)
            [ $# -eq 0 ] || usage
            run_web
            ;;
        install-or-upgrade)
            [ $# -eq 0 ] || usage
            exec php "$HELPER_DIR/install-or-upgrade.php"
            ;;
        cron)
            run_cron "$@"
            ;;
        *)
            exec "$command" "$@"
            ;;
    esac
}

main "$@"
