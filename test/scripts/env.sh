# shellcheck shell=bash
# Shared setup for the demo and the test command: install what is missing,
# build and install schemaguard, start and stop a throwaway server.
#
# Source it; it defines functions and PG_MAJOR, PG_BIN, SRC.

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PGXS_DIR=/usr/lib/postgresql/$PG_MAJOR/lib/pgxs

say() { printf '\n==> %s\n' "$*" >&2; }

# Run a command as root (directly, or through sudo).
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages this project needs, if any is missing.
install_deps() {
	local pkgs=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
		postgresql-contrib make gcc libc6-dev perl libipc-run-perl libdbd-pg-perl pgbouncer)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# The real migration runners: node-pg-migrate (with node-postgres) and dbmate
# from npm, cached under .build/npm-runner; sqitch from Debian.  Sets
# SG_RUNNER, SG_DBMATE and SG_SQITCH to their commands, or empty with the
# reason in SG_RUNNER_WHY, SG_DBMATE_WHY, SG_SQITCH_WHY: the tests that use
# them then skip, saying what really happened.
NODE_PG_MIGRATE_VERSION=7.9.1
PG_NODE_VERSION=8.23.1
DBMATE_VERSION=2.36.0
install_runner() {
	# Under root the servers run as postgres, which cannot always reach the
	# checkout (under /root, say): the runners then live in a cache that
	# every user can read.
	local dir=$SRC/.build/npm-runner log
	[ "$(id -u)" = 0 ] && dir=/var/cache/schemaguard-test/npm-runner
	SG_RUNNER= SG_DBMATE= SG_SQITCH=
	SG_RUNNER_WHY= SG_DBMATE_WHY= SG_SQITCH_WHY=
	# sqitch from Debian (its pg engine drives psql and DBD::Pg)
	if ! command -v sqitch >/dev/null || ! perl -MDBD::Pg -e1 2>/dev/null; then
		say "installing sqitch from Debian"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqitch libdbd-pg-perl >/dev/null 2>&1 ||
			SG_SQITCH_WHY="apt-get install sqitch libdbd-pg-perl failed"
	fi
	if command -v sqitch >/dev/null && perl -MDBD::Pg -e1 2>/dev/null; then
		SG_SQITCH=$(command -v sqitch)
	else
		SG_SQITCH_WHY=${SG_SQITCH_WHY:-"sqitch or DBD::Pg is missing after apt-get install"}
	fi
	# node-pg-migrate and dbmate (its npm package ships the Go binary) from npm
	if [ ! -x "$dir/node_modules/.bin/node-pg-migrate" ] || [ ! -x "$dir/node_modules/.bin/dbmate" ]; then
		if ! command -v npm >/dev/null; then
			say "installing nodejs and npm from Debian"
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				nodejs npm >/dev/null 2>&1 || true
		fi
		if ! command -v npm >/dev/null; then
			SG_RUNNER_WHY="npm is not installed and apt-get could not install it"
		else
			mkdir -p "$dir"
			log=$dir/npm-install.log
			say "npm install node-pg-migrate@$NODE_PG_MIGRATE_VERSION pg@$PG_NODE_VERSION dbmate@$DBMATE_VERSION into $dir (a few minutes the first time; log in $log)"
			if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=http \
				"node-pg-migrate@$NODE_PG_MIGRATE_VERSION" "pg@$PG_NODE_VERSION" \
				"dbmate@$DBMATE_VERSION" >"$log" 2>&1); then
				SG_RUNNER_WHY="npm is installed, but npm install failed: $(grep -m1 -iE 'npm (error|err!)' "$log" | cut -c1-160)"
			fi
			say "npm install finished"
		fi
	fi
	if [ -d "$dir" ]; then
		chmod -R a+rX "$dir"
	fi
	if [ -x "$dir/node_modules/.bin/node-pg-migrate" ]; then
		SG_RUNNER=$dir/node_modules/.bin/node-pg-migrate
	else
		SG_RUNNER_WHY=${SG_RUNNER_WHY:-"node-pg-migrate is missing from $dir after npm install"}
	fi
	if [ -x "$dir/node_modules/.bin/dbmate" ]; then
		SG_DBMATE=$dir/node_modules/.bin/dbmate
	else
		SG_DBMATE_WHY=${SG_RUNNER_WHY:-"dbmate is missing from $dir after npm install"}
	fi
	export SG_RUNNER SG_DBMATE SG_SQITCH SG_RUNNER_WHY SG_DBMATE_WHY SG_SQITCH_WHY
}

# Build warning-free (-Werror) and install the extension.
build_install() {
	say "building schemaguard with -Wall -Wextra -Werror"
	make -C "$SRC" -s clean >/dev/null
	make -C "$SRC" -s SG_WERROR=1 PG_CONFIG="$PG_BIN/pg_config"
	as_root make -C "$SRC" -s install PG_CONFIG="$PG_BIN/pg_config" >/dev/null
}

# The user servers run as: postgres refuses to run as root.
run_user() {
	if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# Run a command as run_user, keeping the environment we pass explicitly.
as_run_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- env PATH="$PG_BIN:$PATH" "$@"
	else
		env PATH="$PG_BIN:$PATH" "$@"
	fi
}

# A free TCP port on the loopback interface.
free_port() {
	perl -MIO::Socket::INET -e \
		'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport'
}

# make_tmp: a temp directory the run user owns; removed by stop_all.
make_tmp() {
	SG_TMP=$(mktemp -d "${SG_TMP_BASE:-/tmp}/schemaguard.XXXXXX")
	chmod 755 "$SG_TMP"
	[ "$(id -u)" = 0 ] && chown postgres: "$SG_TMP"
	return 0
}

# start_server [extra postgresql.conf lines...]: initdb and start a server
# in $SG_TMP/data on a free port, schemaguard preloaded.  Sets PGPORT, PGHOST.
start_server() {
	PGPORT=$(free_port)
	PGHOST=$SG_TMP
	export PGPORT PGHOST PGUSER=postgres PGDATABASE=postgres
	as_run_user initdb -D "$SG_TMP/data" -U postgres -A trust --no-sync >"$SG_TMP/initdb.log" 2>&1
	{
		echo "port = $PGPORT"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$SG_TMP'"
		echo "shared_preload_libraries = 'pg_stat_statements,schemaguard'"
		echo "fsync = off"
		echo "max_prepared_transactions = 10"
		for line in "$@"; do echo "$line"; done
	} | as_run_user tee -a "$SG_TMP/data/postgresql.conf" >/dev/null
	as_run_user pg_ctl -D "$SG_TMP/data" -l "$SG_TMP/server.log" -w -s start
	say "PostgreSQL $PG_MAJOR running on port $PGPORT (data in $SG_TMP/data)"
}

# Stop the server and remove the temp directory; safe to call twice.
stop_all() {
	if [ -n "${SG_TMP:-}" ] && [ -d "$SG_TMP" ]; then
		if [ -f "$SG_TMP/data/postmaster.pid" ]; then
			as_run_user pg_ctl -D "$SG_TMP/data" -m fast -w -s stop || true
		fi
		[ -n "${SG_KEEP_TMP:-}" ] || rm -rf "$SG_TMP"
	fi
}

# psql as the run user against the throwaway server.
sgpsql() {
	as_run_user psql -X -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres "$@"
}
