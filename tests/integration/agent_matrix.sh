#!/usr/bin/env bash
# The interoperability matrix: BIRD, FRR, GoBGP and OpenBGPD x IPv4 and IPv6 x eBGP and
# iBGP x 2-octet and 4-octet ASNs x with and without TCP MD5 -- 64 sessions, all at once,
# each checked on both sides. Plus one peer per daemon whose MD5 key is wrong: it never
# comes up.
. "$(dirname "$0")/netns.bash"
trap 'rc=$?; [ $rc = 0 ] || dump_logs; netns_cleanup' EXIT
set -e
KEY=testkey1
lan_up
"$TABBYCTL" bgp node-mesh off
declare -A ASL=([t2]=64512 [t4]=4200000001) EBGP=([t2]=64555 [t4]=4200000002) TIDX=([t2]=1 [t4]=2)
host_add t2 1
host_add t4 2
tabbyd_start t2 t2 1 --as 64512
tabbyd_start t4 t4 2 --as 4200000001

bird_conf() {  # N PAS ASL TIDX PASSWORD
	local pw=""; [ -n "$5" ] && pw="password \"$5\";"
	echo "router id $(v4 "$1");
protocol device {}
protocol bgp p4 { local $(v4 "$1") as $2; neighbor $(v4 "$4") as $3; $pw
	connect retry time 2; error wait time 1,3; ipv4 { import all; export none; }; }
protocol bgp p6 { local $(v6 "$1") as $2; neighbor $(v6 "$4") as $3; $pw
	connect retry time 2; error wait time 1,3; ipv6 { import all; export none; }; }"
}
frr_conf() {
	local a4 a6 pw4="" pw6=""; a4=$(v4 "$4"); a6=$(v6 "$4")
	[ -n "$5" ] && pw4=" neighbor $a4 password $5" && pw6=" neighbor $a6 password $5"
	printf '%s\n' "hostname n$1" "router bgp $2" " bgp router-id $(v4 "$1")" \
		" no bgp ebgp-requires-policy" " no bgp default ipv4-unicast" \
		" neighbor $a4 remote-as $3" "$pw4" " neighbor $a4 timers connect 2" \
		" neighbor $a6 remote-as $3" "$pw6" " neighbor $a6 timers connect 2" \
		" address-family ipv4 unicast" "  neighbor $a4 activate" " exit-address-family" \
		" address-family ipv6 unicast" "  neighbor $a6 activate" " exit-address-family"
}
gobgp_conf() {
	local pw=(); [ -n "$5" ] && pw=("auth-password = \"$5\"")
	printf '%s\n' "[global.config]" "as = $2" "router-id = \"$(v4 "$1")\""
	gobgp_neighbor "$(v4 "$4")" "$3" ipv4-unicast "${pw[@]}"
	gobgp_neighbor "$(v6 "$4")" "$3" ipv6-unicast "${pw[@]}"
}
openbgpd_conf() {
	local pw=(); [ -n "$5" ] && pw=("	tcp md5sig password $5")
	printf '%s\n' "AS $2" "router-id $(v4 "$1")"
	openbgpd_neighbor "$(v4 "$4")" "$3" "${pw[@]}"
	openbgpd_neighbor "$(v6 "$4")" "$3" "${pw[@]}"
	printf '%s\n' "allow from any" "allow to any"
}

# One peer instance: host N running daemon D with AS PAS, peering with tabbyd node T.
SESSIONS=()   # "T D N FAMILY MODE ASNW AUTH"
peer_instance() {  # T D N MODE AUTH [DAEMON-PASSWORD]
	local t=$1 d=$2 n=$3 mode=$4 auth=$5 dpw=${6-} pas pw="" name="$1-$2-$4-$5${6:+-wrongkey}"
	pas=${EBGP[$t]}; [ "$mode" = ibgp ] && pas=${ASL[$t]}
	[ "$auth" = md5 ] && pw=$KEY
	[ $# -ge 6 ] || dpw=$pw
	host_add "$name" "$n"
	"$TABBYCTL" node bgp peer add "$(v4 "$n")" as "$pas" --node="$t" ${pw:+--password=$pw}
	"$TABBYCTL" node bgp peer add "$(v6 "$n")" as "$pas" --node="$t" ${pw:+--password=$pw}
	"${d}_start" "$name" "$name" "$("${d}_conf" "$n" "$pas" "${ASL[$t]}" "${TIDX[$t]}" "$dpw")"
	local asnw=2-octet; [ "$t" = t4 ] && asnw=4-octet
	SESSIONS+=("$t $d $n ipv4 $mode $asnw $auth $name" "$t $d $n ipv6 $mode $asnw $auth $name")
}

n=10
for t in t2 t4; do
	for d in bird frr gobgp openbgpd; do
		for mode in ebgp ibgp; do
			for auth in plain md5; do
				peer_instance "$t" "$d" "$n" "$mode" "$auth"
				n=$((n + 1))
			done
		done
	done
done
WRONG=()
for d in bird frr gobgp openbgpd; do
	peer_instance t2 "$d" "$n" ebgp md5 wrongkey9
	WRONG+=("${SESSIONS[-2]}" "${SESSIONS[-1]}")
	unset 'SESSIONS[-1]' 'SESSIONS[-1]'
	SESSIONS=("${SESSIONS[@]}")
	n=$((n + 1))
done

peer_side_up() {  # D NAME FAMILY TABBYD-INDEX
	local a; [ "$3" = ipv4 ] && a=$(v4 "$4") || a=$(v6 "$4")
	case $1 in
	bird) bird_up "$2" "p${3: -1}" ;;
	frr) frr_up "$2" "$2" "$a" ;;
	gobgp) gobgp_up "$2" "$a" ;;
	openbgpd) openbgpd_up "$2" "$a" ;;
	esac
}
session_up() {  # "T D N FAMILY MODE ASNW AUTH NAME"
	local t d n fam mode asnw auth name a
	read -r t d n fam mode asnw auth name <<< "$1"
	[ "$fam" = ipv4 ] && a=$(v4 "$n") || a=$(v6 "$n")
	grep -qE "^\| $a +\|.*\| up +\|" "$T/status-$t.txt" && peer_side_up "$d" "$name" "$fam" "${TIDX[$t]}"
}

declare -A UP_AT
start=$SECONDS
while :; do
	for t in t2 t4; do "$TABBYCTL" status --node=$t > "$T/status-$t.txt" || true; done
	left=0
	for s in "${SESSIONS[@]}"; do
		[ -n "${UP_AT[$s]:-}" ] && continue
		if session_up "$s"; then UP_AT[$s]=$((SECONDS - start)); else left=$((left + 1)); fi
	done
	[ $left = 0 ] && break
	if [ $((SECONDS - start)) -ge 90 ]; then break; fi
	sleep 1
done

printf '%-8s %-5s %-4s %-7s %-5s %-11s %s\n' daemon af mode asn md5 "tabbyd+peer" "up after"
fail=0
for s in "${SESSIONS[@]}"; do
	read -r t d n fam mode asnw auth name <<< "$s"
	res="Established"; [ -n "${UP_AT[$s]:-}" ] || { res="NOT UP"; fail=1; }
	printf '%-8s %-5s %-4s %-7s %-5s %-11s %s\n' "$d" "$fam" "$mode" "$asnw" "$auth" "$res" "${UP_AT[$s]:+${UP_AT[$s]}s}"
done
if [ $fail = 1 ]; then
	cat "$T/status-t2.txt" "$T/status-t4.txt"
	exit 1
fi
wrong_up() {
	"$TABBYCTL" status --node=t2 > "$T/status-w.txt"
	for s in "${WRONG[@]}"; do
		read -r t d n fam mode asnw auth name <<< "$s"
		local a; [ "$fam" = ipv4 ] && a=$(v4 "$n") || a=$(v6 "$n")
		grep -qE "^\| $a +\|.*\| up +\|" "$T/status-w.txt" && return 0
		peer_side_up "$d" "$name" "$fam" 1 && return 0
	done
	return 1
}
never_within 10 "a peer with the wrong MD5 key comes up" wrong_up
echo "matrix: ${#SESSIONS[@]} sessions Established on both sides; ${#WRONG[@]} wrong-key sessions never up"
