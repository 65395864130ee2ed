#!/usr/bin/env bash
# etcd's security, for real: a TLS member that asks for client certificates (a CA, a server
# and a client certificate made here with openssl) and a member with username/password
# authentication where tabby's user may only touch /tabby/ (simple tokens living 2 s, so
# they expire under a running tabbyd). Checks: the right files work (tabbyctl flags and
# TABBY_ETCD_* variables, tabbyd); a wrong CA and a missing client certificate fail with
# a clear error; the restricted user runs tabbyctl and tabbyd (watch, lease, status) and a
# change made after its token expired is applied; a wrong password is a clear error; the
# password is never in a process's arguments or a log.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
fail() { echo "FAIL: $*" >&2; exit 1; }
need_etcd

lan_up
host_add e1 11
host_add e2 12
host_add c 20
host_add n1 1

# Certificates: a CA, etcd's server certificate for 192.0.2.11, a client certificate; and a
# second CA that signed nothing of this.
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" 2>> "$P/openssl.log"; }
ca() {  # NAME
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=tabby test $1" -keyout "$P/$1.key" -out "$P/$1.pem"
}
cert() {  # NAME CN EXTENSIONS
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
		-keyout "$P/$1.key" -out "$P/$1.csr"
	printf '%s\n' "$3" > "$P/$1.ext"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 1 \
		-extfile "$P/$1.ext" -out "$P/$1.pem"
}
ca ca
ca otherca
# etcd 3.4's gateway presents the server certificate as a client to etcd itself: both uses.
cert server etcd-e1 "subjectAltName=IP:192.0.2.11
extendedKeyUsage=serverAuth,clientAuth"
cert client tabby "extendedKeyUsage=clientAuth"

etcd_start() {  # MEMBER N SCHEME EXTRA-ARGS...
	local m=$1 n=$2 s=$3
	shift 3
	ip netns exec "$(ns_of "$m")" etcd --name "$m" --data-dir "$T/$m.etcd" \
		--listen-client-urls "$s://192.0.2.$n:2379" --advertise-client-urls "$s://192.0.2.$n:2379" \
		--listen-peer-urls "http://192.0.2.$n:2380" --initial-advertise-peer-urls "http://192.0.2.$n:2380" \
		--initial-cluster "$m=http://192.0.2.$n:2380" --log-level warn "$@" >> "$T/$m.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$m]=$!
}
etcd_start e1 11 https --cert-file "$P/server.pem" --key-file "$P/server.key" \
	--client-cert-auth --trusted-ca-file "$P/ca.pem"
etcd_start e2 12 http --auth-token "simple" --auth-token-ttl 2
ctl() { nsx c "$BUILD/tabbyctl" "$@"; }

# --- TLS ---
TLS=etcds://192.0.2.11:2379
files=(--etcd-ca="$P/ca.pem" --etcd-cert="$P/client.pem" --etcd-key="$P/client.key")
wait_until 30 "the TLS member answers" ctl --datastore=$TLS "${files[@]}" bgp node-mesh
ctl --datastore=$TLS "${files[@]}" bgp peer add 192.0.2.50 as 65050
TABBY_ETCD_CA=$P/ca.pem TABBY_ETCD_CERT=$P/client.pem TABBY_ETCD_KEY=$P/client.key \
	ctl --datastore=$TLS bgp peer show | grep -q "192.0.2.50"
echo "TLS: flags and TABBY_ETCD_* variables work"
if ctl --datastore=$TLS --etcd-ca="$P/otherca.pem" --etcd-cert="$P/client.pem" \
	--etcd-key="$P/client.key" bgp peer show 2> "$T/wrongca.err"; then
	fail "a server certificate from another CA was accepted"
fi
cat "$T/wrongca.err"
grep -q "datastore $TLS: cannot reach etcd: 192.0.2.11:2379: SSL certificate problem" "$T/wrongca.err"
grep -q -- "--etcd-ca" "$T/wrongca.err"
if ctl --datastore=$TLS --etcd-ca="$P/ca.pem" bgp peer show 2> "$T/nocert.err"; then
	fail "etcd served a client without a certificate"
fi
cat "$T/nocert.err"
grep -q "datastore $TLS: cannot reach etcd: 192.0.2.11:2379: .*(TLS: check the CA, client certificate" "$T/nocert.err"
if ctl --datastore=etcd://192.0.2.11:2379 --etcd-ca="$P/ca.pem" bgp peer show 2> "$T/plain.err"; then
	fail "TLS files with etcd:// were accepted"
fi
grep -q "use etcds://" "$T/plain.err"
TABBY_DATASTORE=$TLS tabbyd_start n1 n1 1 --etcd-ca "$P/ca.pem" --etcd-cert "$P/client.pem" \
	--etcd-key "$P/client.key"
TABBY_ETCD_CA=$P/ca.pem TABBY_ETCD_CERT=$P/client.pem TABBY_ETCD_KEY=$P/client.key \
	wait_until 10 "tabbyd over TLS publishes its status" \
	nsx c "$BUILD/tabbyctl" --datastore=$TLS status --node=n1
kill "${PID_OF[n1]}"
wait "${PID_OF[n1]}" || true
echo "TLS: a wrong CA and a missing client certificate are clear errors; tabbyd runs over TLS"

# --- users ---
AUTH=etcd://192.0.2.12:2379
ec() { nsx c etcdctl --endpoints=http://192.0.2.12:2379 "$@"; }
wait_until 30 "the auth member answers" ec endpoint health
ec user add root --new-user-password=root-pw-1 --interactive=false > /dev/null
ec role add tabby > /dev/null
ec role grant-permission tabby --prefix=true readwrite /tabby/ > /dev/null
ec user add tabby --new-user-password=tabby-pw-1 --interactive=false > /dev/null
ec user grant-role tabby tabby > /dev/null
ec user grant-role root root > /dev/null
ec auth enable > /dev/null
if ec get /tabby/ > /dev/null 2>&1; then fail "etcd auth is not on"; fi
printf 'tabby-pw-1\n' > "$T/tabby.pw"
chmod 600 "$T/tabby.pw"
printf 'wrong-pw\n' > "$T/wrong.pw"
export TABBY_ETCD_USER=tabby
if TABBY_ETCD_PASSWORD_FILE=$T/wrong.pw ctl --datastore=$AUTH bgp peer show 2> "$T/wrongpw.err"; then
	fail "a wrong password was accepted"
fi
cat "$T/wrongpw.err"
grep -q "datastore $AUTH: authenticating as tabby: etcd at 192.0.2.12:2379: .*authentication failed" "$T/wrongpw.err"
export TABBY_ETCD_PASSWORD_FILE=$T/tabby.pw
ctl --datastore=$AUTH bgp peer add 192.0.2.51 as 65051
ctl --datastore=$AUTH bgp peer show | grep -q 192.0.2.51
# The user is confined to /tabby/ (etcd says so; tabby needs no more).
if ec --user=tabby:tabby-pw-1 put /elsewhere x > /dev/null 2>&1; then
	fail "the tabby user could write outside /tabby/"
fi
TABBY_DATASTORE=$AUTH tabbyd_start n1 n1 1
host_add b 30
bird_start b bird "router id 192.0.2.30;
protocol device {}
protocol bgp t4 { local 192.0.2.30 as 65030; neighbor 192.0.2.1 as 64512; passive on;
	ipv4 { import all; export none; }; }"
wait_until 10 "tabbyd as the restricted user publishes its status" \
	ctl --datastore=$AUTH status --node=n1
sleep 4 # the tokens tabbyd and its watch hold have expired (TTL 2 s)
ctl --datastore=$AUTH node bgp peer add 192.0.2.30 as 65030 --node=n1
wait_until 10 "a peer added after the token expired is up" bash -c \
	"ip netns exec $(ns_of c) '$BUILD/tabbyctl' --datastore=$AUTH status --node=n1 | grep -qE '^\| 192\.0\.2\.30 .*\| up '"
for p in "${PIDS[@]}"; do
	if tr '\0' ' ' 2> /dev/null < "/proc/$p/cmdline" | grep -q "tabby-pw-1"; then
		fail "the password is in the arguments of pid $p"
	fi
done
if grep -rl "tabby-pw-1" "$T"/*.log; then fail "the password is in a log"; fi
echo "users: a restricted user runs tabbyctl and tabbyd across token expiry; wrong password clear; password in no argument or log"
