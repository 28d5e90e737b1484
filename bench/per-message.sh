#!/bin/sh
# Statements and Redis commands per posted message: runs `npm run bench:api` briefly against a private
# PostgreSQL 15 (pg_stat_statements loaded) and a private redis-server, then divides the counters by the
# number of messages stored. Counts do not depend on the machine's speed or load.
#   sh bench/per-message.sh [seconds]    (default 3)
set -eu
DUR="${1:-3}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DIR="$(mktemp -d)"
PGPORT=$((20000 + $$ % 10000)); RPORT=$((PGPORT + 1))
chown postgres "$DIR" 2>/dev/null || true
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "$PGBIN/initdb -D $DIR/pg -U postgres -A trust >/dev/null"
run_pg "$PGBIN/pg_ctl -D $DIR/pg -o '-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all' -l $DIR/pg.log -w start >/dev/null"
redis-server --port "$RPORT" --save '' --appendonly no --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
cleanup() { run_pg "$PGBIN/pg_ctl -D $DIR/pg -m fast stop >/dev/null" || true; kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
PSQL="$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -X -q -t -A"
$PSQL -c "create database bench" postgres
$PSQL -c "create extension pg_stat_statements" bench
# CPU seconds used by the cluster: postmaster (with its reaped backends) plus live backends
pg_cpu() {
  pm="$(head -1 "$DIR/pg/postmaster.pid")"; hz="$(getconf CLK_TCK)"
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
    for f in /proc/[0-9]*/stat; do awk -v pm="$pm" '$4 == pm { print $14 + $15 }' "$f" 2>/dev/null; done
  } | awk -v hz="$hz" '{ t += $1 } END { printf "%.3f", t / hz }'
}
redis_cpu() { redis-cli -p "$RPORT" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { t += $2 } END { printf "%.3f", t }'; }
PG0="$(pg_cpu)"; R0="$(redis_cpu)"
DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench" REDIS_URL="redis://127.0.0.1:$RPORT" \
  npm run -s bench:api -- --duration "$DUR" --connections 20 >"$DIR/api.out"
cat "$DIR/api.out" >&2
PG1="$(pg_cpu)"; R1="$(redis_cpu)"
MSGS="$($PSQL -c "select count(*) from messages" bench)"
echo "-- CPU per message (CPU time, not wall time: holds on a loaded machine) --"
awk -v a="$PG0" -v b="$PG1" -v m="$MSGS" 'BEGIN { printf "PostgreSQL: %.0f us of CPU per message -> %.0f messages per second per vCPU\n", (b - a) * 1e6 / m, m / (b - a) }'
awk -v a="$R0" -v b="$R1" -v m="$MSGS" 'BEGIN { printf "Redis: %.0f us of CPU per message (whole run incl. health checks) -> %.0f messages per second per engine thread\n", (b - a) * 1e6 / m, m / (b - a) }' 
echo "messages stored: $MSGS"
echo "-- PostgreSQL statements per message (calls / messages), rows written per message --"
$PSQL -F ' | ' -c "select round(calls::numeric / $MSGS, 3) as per_msg, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) from pg_stat_statements where dbid = (select oid from pg_database where datname = 'bench') and calls >= $MSGS / 2 order by calls desc" bench
echo "-- WAL bytes per message --"
$PSQL -c "select round(sum(wal_bytes) / $MSGS) from pg_stat_statements where dbid = (select oid from pg_database where datname = 'bench')" bench
echo "-- bytes per stored message (messages table with indexes and TOAST) --"
$PSQL -c "select round(pg_total_relation_size('messages')::numeric / $MSGS)" bench
echo "-- Redis commands per message (calls / messages) --"
redis-cli -p "$RPORT" info commandstats | tr -d '\r' | awk -F'[:=,]' -v m="$MSGS" '/^cmdstat_/ { sub("cmdstat_", "", $1); if ($3 / m >= 0.01) printf "%s %.3f per message, %s us per call\n", $1, $3 / m, $7 }' | sort -k2 -nr
echo "-- Redis memory --"
redis-cli -p "$RPORT" info memory | tr -d '\r' | grep -E '^used_memory:|^used_memory_dataset:'
redis-cli -p "$RPORT" dbsize
