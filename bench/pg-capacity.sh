#!/bin/sh
# PostgreSQL write capacity for what one posted message and one worker job run: pgbench with the real
# statements (bench/pg/*.sql) against a private PostgreSQL 15 (own data directory and port, durable settings
# as on RDS: fsync, synchronous_commit and full_page_writes on), seeded with the repository's migrations.
# For each script: transactions per second at CLIENTS connections, and the cluster's CPU time per transaction
# (backends, WAL writer, checkpointer; read from /proc), which gives transactions per second per vCPU when the
# database is CPU-bound. CPU time holds on a loaded machine far better than throughput does.
#   sh bench/pg-capacity.sh [seconds per script, default 30] [clients, default 8]    (npm run bench:pg)
# Environment: PG_RATE=N holds each script at N transactions per second (pgbench -R) instead of full speed, to
# see what a lightly loaded database spends per transaction; PG_SCRIPTS="message" runs only the scripts named.
set -eu
DUR="${1:-30}"; CLIENTS="${2:-8}"; RATE="${PG_RATE:-}"; SCRIPTS="${PG_SCRIPTS:-message job-offline job-push}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
[ -x "$PGBIN/pgbench" ] || { echo "no pgbench in $PGBIN: install PostgreSQL 15 (apt-get install postgresql) or set PGBIN" >&2; exit 2; }
NUSERS=10000; NROOMS=1000; ROOMS_PER_USER=5; STRIDE=97; NMESSAGES=100000
DIR="$(mktemp -d)"; chmod 755 "$DIR"
PGPORT=$((30000 + $$ % 10000))
chown postgres "$DIR" 2>/dev/null || true
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "$PGBIN/initdb -D $DIR/pg -U postgres -A trust >/dev/null"
run_pg "$PGBIN/pg_ctl -D $DIR/pg -o '-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_wal_size=2GB -c shared_preload_libraries=pg_stat_statements' -l $DIR/pg.log -w start >/dev/null"
cleanup() { run_pg "$PGBIN/pg_ctl -D $DIR/pg -m fast stop >/dev/null" || true; rm -rf "$DIR"; }
trap cleanup EXIT
PSQL="$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -X -q -t -A -v ON_ERROR_STOP=1"
$PSQL -c "create database bench" postgres
for f in "$ROOT"/apps/shared/migrations/*.sql; do $PSQL -f "$f" bench >/dev/null; done
# Ids are uuids ending in twelve digits (100000000000 + n) so the scripts can build them from numbers. User n
# belongs to ROOMS_PER_USER rooms 1 + (n + j * STRIDE) % NROOMS; message m lies in room 1 + (m - 1) % NROOMS.
$PSQL bench <<SQL
create extension pg_stat_statements;
insert into users (id, username, display_name, password_hash)
  select ('00000000-0000-0000-0000-' || (100000000000 + n))::uuid, 'user' || n, 'User ' || n, 'x' from generate_series(1, $NUSERS) n;
insert into rooms (id, name, created_by)
  select ('00000000-0000-0000-0000-' || (100000000000 + n))::uuid, 'room ' || n, '00000000-0000-0000-0000-100000000001' from generate_series(1, $NROOMS) n;
insert into room_members (room_id, user_id)
  select ('00000000-0000-0000-0000-' || (100000000001 + (n + j * $STRIDE) % $NROOMS))::uuid, ('00000000-0000-0000-0000-' || (100000000000 + n))::uuid
    from generate_series(1, $NUSERS) n, generate_series(0, $ROOMS_PER_USER - 1) j;
insert into messages (room_id, author_id, body, client_msg_id)
  select ('00000000-0000-0000-0000-' || (100000000001 + (m - 1) % $NROOMS))::uuid, ('00000000-0000-0000-0000-' || (100000000000 + 1 + m % $NUSERS))::uuid,
         'a seeded message of about sixty characters, as typed in the box', 'seed-' || m
    from generate_series(1, $NMESSAGES) m;
vacuum analyze;
checkpoint;
SQL
# CPU seconds used by the cluster: postmaster (with its reaped backends) plus live children
pg_cpu() {
  pm="$(head -1 "$DIR/pg/postmaster.pid")"; hz="$(getconf CLK_TCK)"
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
    for f in /proc/[0-9]*/stat; do awk -v pm="$pm" '$4 == pm { print $14 + $15 }' "$f" 2>/dev/null; done
  } | awk -v hz="$hz" '{ t += $1 } END { printf "%.3f", t / hz }'
}
wal_bytes() { $PSQL -c "select wal_bytes from pg_stat_wal" bench; }
echo "pg-capacity: PostgreSQL $($PGBIN/postgres --version | awk '{ print $3 }'), $(nproc) cores, ${DUR} s per script, $CLIENTS clients, rate ${RATE:-unlimited}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %10s %12s %14s %18s %12s\n' script tps "cpu us/tx" "tx/s per vCPU" "statements/tx" "WAL B/tx"
for s in $SCRIPTS; do
  $PSQL -c "select pg_stat_statements_reset()" bench >/dev/null
  C0="$(pg_cpu)"; W0="$(wal_bytes)"
  OUT="$("$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M simple -c "$CLIENTS" -j 2 -T "$DUR" ${RATE:+-R "$RATE"} \
    -D nusers=$NUSERS -D nrooms=$NROOMS -D rooms_per_user=$ROOMS_PER_USER -D stride=$STRIDE -D nmessages=$NMESSAGES \
    -f "$ROOT/bench/pg/$s.sql" bench 2>&1)" || { echo "$OUT" >&2; exit 1; }
  C1="$(pg_cpu)"; W1="$(wal_bytes)"
  TX="$(echo "$OUT" | awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] }')"
  FAILED="$(echo "$OUT" | awk -F': ' '/number of failed transactions/ { print $2 + 0 }')"
  [ "${FAILED:-0}" = 0 ] || { echo "$OUT" >&2; echo "$s: failed transactions" >&2; exit 1; }
  STMTS="$($PSQL -c "select round(sum(calls)::numeric / $TX, 2) from pg_stat_statements where dbid = (select oid from pg_database where datname = 'bench') and query not like '%pg_stat%'" bench)"
  awk -v s="$s" -v tx="$TX" -v d="$DUR" -v c0="$C0" -v c1="$C1" -v w0="$W0" -v w1="$W1" -v st="$STMTS" \
    'BEGIN { cpu = c1 - c0; printf "%-12s %10.0f %12.0f %14.0f %18s %12.0f\n", s, tx / d, cpu * 1e6 / tx, tx / cpu, st, (w1 - w0) / tx }'
done
# Sanity: what the scripts wrote is what the services write (a membership-guarded message, a digest row, a delivery).
$PSQL -c "select 'rows written: messages ' || (select count(*) - $NMESSAGES from messages) || ', offline_digests ' || (select count(*) from offline_digests) || ', push_deliveries ' || (select count(*) from push_deliveries) || ', processed_jobs pending ' || (select count(*) from processed_jobs where outcome = 'pending')" bench
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
