#!/usr/bin/env bash
# The reference page's "user credentials", over real HTTP with curl: users of a tenant
# (tabbyctl api-user), POST /oauth2/v1/token with grant_type=password (JSON and form) and
# grant_type=refresh_token (rotation, reuse refused and the family revoked), each with its
# matrix of refusals; createdBy/lastUpdatedBy name the user (or the client); removing a
# user or changing their password revokes their tokens at once; every write is in the
# audit log with tenant, user, resource and result, and no secret is.
# The token endpoint allows a burst of 10 requests per client: each part has its own client.
. "$(dirname "$0")/lib.bash"
set -e
export TABBY_DATASTORE="sqlite:$T/tabby.db"
fail() { echo "FAIL: $*" >&2; tail -n 20 "$T/api.log" >&2; exit 1; }
ctl() { "$TABBYCTL" "$@"; }
field() { echo "$1" | sed -n "s/.*\"$2\": \"\\(.*\\)\".*/\\1/p"; }
jfield() { echo "$1" | sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p"; }

A=$(ctl api-client create acme -o json); AID=$(field "$A" client_id); ASEC=$(field "$A" client_secret)
B=$(ctl api-client create beta -o json); BID=$(field "$B" client_id); BSEC=$(field "$B" client_secret)
R=$(ctl api-client create refresh -o json); RID=$(field "$R" client_id); RSEC=$(field "$R" client_secret)
Q=$(ctl api-client create passwd -o json); QID=$(field "$Q" client_id); QSEC=$(field "$Q" client_secret)
echo "alice-pass-1" | ctl api-user create --client="$RID" alice > /dev/null
echo "carol-pass-1" | ctl api-user create --client="$RID" carol > /dev/null
echo "alice-pass-1" | ctl api-user create --client="$QID" alice > /dev/null
echo "dave-pass-12" | ctl api-user create --client="$QID" dave > /dev/null
echo "alice-pass-1" | ctl api-user create --client="$AID" alice > "$T/c1"
grep -q "^Created user alice of API client $AID$" "$T/c1" || fail "api-user create: $(cat "$T/c1")"
grep -q Password "$T/c1" && fail "printed a password it was given"
ctl api-user create --client="$AID" carol < /dev/null > "$T/c2"
CAROLPW=$(sed -n 's/^Password: //p' "$T/c2"); [ ${#CAROLPW} -ge 16 ] || fail "no generated password: $(cat "$T/c2")"
echo "bob-pass-123" | ctl api-user create --client="$BID" bob > /dev/null
sqlite3 "$T/tabby.db" "select value from kv where key like '/tabby/v1/ne/user/%'" | grep -q '"password_hash":"\$argon2id\$' || fail "not an argon2id hash"
grep -qa "alice-pass-1" "$T/tabby.db" "$T/tabby.db-wal" 2>/dev/null && fail "a password is stored in clear"
if echo "alice-pass-2" | ctl api-user create --client="$AID" alice 2> "$T/err"; then fail "a second alice"; fi
grep -q "already exists" "$T/err" || fail "duplicate user: $(cat "$T/err")"
DEV=$(ctl device create --node=ghost --owner="$QID")
CON=$(ctl connection create --device="$DEV" --interface=eth1)

api_serve "$T/api.log"; API=http://127.0.0.1:$SERVED_PORT

PASSED=0
# grant ARGS... : POST /oauth2/v1/token; status in $ST, body in $BODY
grant() {
	ST=$(curl -s -o "$T/body" -w '%{http_code}' "$API/oauth2/v1/token" "$@"); BODY=$(cat "$T/body")
	if [ -n "${API_RECORD:-}" ]; then
		printf '{"method":"POST","path":"/oauth2/v1/token","status":%s,"body":%s}\n' "$ST" "$BODY" >> "$API_RECORD"
	fi
}
json() { grant -H 'Content-Type: application/json' -d "$1"; }
expect() {  # WHAT STATUS [PATTERN]
	[ "$ST" = "$2" ] || fail "$1: status $ST, expected $2: $BODY"
	[ -z "${3:-}" ] || echo "$BODY" | grep -qE "$3" || fail "$1: body lacks /$3/: $BODY"
	PASSED=$((PASSED + 1))
}
pw() { echo "{\"grant_type\":\"password\",\"client_id\":\"$1\",\"client_secret\":\"$2\",\"user_name\":\"$3\",\"user_password\":\"$4\"}"; }
rf() { grant -u "$1:$2" -d grant_type=refresh_token -d "refresh_token=$3"; }
use() { curl -s -o /dev/null -w '%{http_code}' "$API/ne/v1/bgp" -H "Authorization: Bearer $1"; }

# The password grant, JSON (the provider's form) and RFC 6749 §4.3 form with Basic.
json "$(pw "$AID" "$ASEC" alice alice-pass-1)"
expect "password grant (JSON)" 200 '"access_token":"[0-9a-f]{64}"'
for f in access_token token_timeout user_name token_type refresh_token; do
	echo "$BODY" | grep -q "\"$f\":" || fail "the answer lacks $f: $BODY"
done
echo "$BODY" | grep -q '"user_name":"alice"' && echo "$BODY" | grep -q '"token_type":"Bearer"' && echo "$BODY" | grep -q '"token_timeout":"3600"' || fail "fields: $BODY"
AT1=$(jfield "$BODY" access_token); RT1=$(jfield "$BODY" refresh_token)
grant -u "$AID:$ASEC" -d grant_type=password -d user_name=alice -d user_password=alice-pass-1
expect "password grant (form + Basic)" 200 '"refresh_token":"[0-9a-f]{64}"'
grant -d grant_type=password -d "client_id=$AID" -d "client_secret=$ASEC" -d user_name=carol --data-urlencode "user_password=$CAROLPW"
expect "password grant (form body), generated password" 200 '"user_name":"carol"'
[ "$(use "$AT1")" = 200 ] || fail "alice's token refused"

# Its matrix.
json "$(pw "$AID" "$ASEC" mallory alice-pass-1)"; expect "unknown user" 400 '"error":"invalid_grant"'
json "$(pw "$AID" "$ASEC" alice alice-pass-X)"; expect "wrong password" 400 '"error":"invalid_grant"'
json "$(pw "$AID" "$ASEC" bob bob-pass-123)"; expect "a user of another client" 400 '"error":"invalid_grant"'
json "$(pw "$BID" "$BSEC" alice alice-pass-1)"; expect "alice through the other client" 400 '"error":"invalid_grant"'
json "$(pw "$AID" wrong-secret alice alice-pass-1)"; expect "right user, wrong client secret" 401 '"error":"invalid_client"'
json "{\"grant_type\":\"password\",\"client_id\":\"$AID\",\"client_secret\":\"$ASEC\",\"user_name\":\"alice\"}"
expect "no user_password" 400 '"error":"invalid_request"'
json "{\"grant_type\":\"password\",\"user_name\":\"alice\",\"user_password\":\"alice-pass-1\"}"
expect "user without client credentials" 400 '"error":"invalid_request"'

json "$(pw "$RID" "$RSEC" alice alice-pass-1)"; expect "login (refresh client)" 200; RT1=$(jfield "$BODY" refresh_token)
json "$(pw "$RID" "$RSEC" carol carol-pass-1)"; expect "carol's login" 200; CT=$(jfield "$BODY" access_token)
# The refresh grant: a new pair; the old refresh token is spent.
rf "$RID" "$RSEC" "$RT1"; expect "refresh" 200 '"user_name":"alice".*"refresh_token":"[0-9a-f]{64}"'
AT2=$(jfield "$BODY" access_token); RT2=$(jfield "$BODY" refresh_token)
[ "$RT2" != "$RT1" ] && [ "$AT2" != "$AT1" ] || fail "refresh did not rotate"
[ "$(use "$AT2")" = 200 ] || fail "refreshed token refused"
rf "$RID" "$RSEC" "$RT2"; expect "refresh again" 200; AT3=$(jfield "$BODY" access_token); RT3=$(jfield "$BODY" refresh_token)
# Its matrix.
rf "$BID" "$BSEC" "$RT3"; expect "another client's refresh token" 400 '"error":"invalid_grant"'
rf "$RID" wrong-secret "$RT3"; expect "refresh, wrong client secret" 401 '"error":"invalid_client"'
rf "$RID" "$RSEC" "$(printf '%064d' 5)"; expect "unknown refresh token" 400 '"error":"invalid_grant"'
rf "$RID" "$RSEC" "not-a-token"; expect "malformed refresh token" 400 '"error":"invalid_grant"'
grant -u "$RID:$RSEC" -d grant_type=refresh_token; expect "no refresh_token" 400 '"error":"invalid_request"'
[ "$(use "$AT3")" = 200 ] || fail "refused attempts harmed the family"
# A refresh token used twice: refused, and its whole family (every token of that login) revoked.
rf "$RID" "$RSEC" "$RT1"; expect "refresh token already used" 400 'already used'
[ "$(use "$AT3")" = 401 ] || fail "the family's newest access token survived a replay"
rf "$RID" "$RSEC" "$RT3"; expect "the family's newest refresh token after a replay" 400 '"error":"invalid_grant"'
[ "$(use "$CT")" = 200 ] || fail "another login (carol) was revoked by alice's replay"

# One refresh token spent twice at once: at most one answer has tokens, and none of
# them survive (the second use revokes the family, whichever order the two land in).
for r in 1 2 3 4 5; do
	X=$(ctl api-client create "twice$r" -o json); XID=$(field "$X" client_id); XSEC=$(field "$X" client_secret)
	echo "pass-word-$r" | ctl api-user create --client="$XID" zed > /dev/null
	json "$(pw "$XID" "$XSEC" zed "pass-word-$r")"; expect "login $r" 200; XRT=$(jfield "$BODY" refresh_token)
	curl -s -o "$T/twice1" -u "$XID:$XSEC" -d grant_type=refresh_token -d "refresh_token=$XRT" "$API/oauth2/v1/token" & j1=$!
	curl -s -o "$T/twice2" -u "$XID:$XSEC" -d grant_type=refresh_token -d "refresh_token=$XRT" "$API/oauth2/v1/token" & j2=$!
	wait "$j1" "$j2"
	[ "$(cat "$T/twice1" "$T/twice2" | grep -c access_token)" -le 1 ] || fail "round $r: both uses of one refresh token got tokens"
	for f in "$T/twice1" "$T/twice2"; do
		t=$(jfield "$(cat "$f")" access_token); n=$(jfield "$(cat "$f")" refresh_token)
		[ -z "$t" ] || [ "$(use "$t")" = 401 ] || fail "round $r: a token from a doubly spent refresh token works"
		[ -z "$n" ] || { rf "$XID" "$XSEC" "$n"; expect "round $r: its successor" 400 '"error":"invalid_grant"'; }
	done
done

# createdBy / lastUpdatedBy: the user; the client for client-credential tokens.
json "$(pw "$QID" "$QSEC" alice alice-pass-1)"; expect "login (passwd client)" 200; AT=$(jfield "$BODY" access_token); RT=$(jfield "$BODY" refresh_token)
json "$(pw "$QID" "$QSEC" dave dave-pass-12)"; expect "dave's login" 200; DT=$(jfield "$BODY" access_token)
P=$(curl -s "$API/ne/v1/bgp" -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' \
	-d "{\"connectionUuid\":\"$CON\",\"localAsn\":10012,\"localIpAddress\":\"192.0.2.1/29\",\"remoteAsn\":10013,\"remoteIpAddress\":\"192.0.2.2\",\"authenticationKey\":\"md5-secret-9\"}" | sed -n 's/.*"uuid":"\([0-9a-f-]*\)".*/\1/p')
G=$(curl -s "$API/ne/v1/bgp/$P" -H "Authorization: Bearer $AT")
echo "$G" | grep -q '"createdBy":"alice"' && echo "$G" | grep -q '"lastUpdatedBy":"alice"' || fail "createdBy/lastUpdatedBy: $G"
CC=$(curl -s -u "$QID:$QSEC" -d grant_type=client_credentials "$API/oauth2/v1/token")
echo "$CC" | grep -q refresh_token && fail "client credentials got a refresh token: $CC"
CCT=$(jfield "$CC" access_token)
curl -s -o /dev/null -X PUT "$API/ne/v1/bgp/$P" -H "Authorization: Bearer $CCT" -H 'Content-Type: application/json' \
	-d '{"localAsn":10012,"localIpAddress":"192.0.2.1/29","remoteAsn":10014,"remoteIpAddress":"192.0.2.2"}'
G=$(curl -s "$API/ne/v1/bgp/$P" -H "Authorization: Bearer $AT")
echo "$G" | grep -q '"createdBy":"alice"' && echo "$G" | grep -q "\"lastUpdatedBy\":\"$QID\"" || fail "lastUpdatedBy after a client's PUT: $G"

# A changed password revokes the user's tokens at once (access and refresh); the new one works.
echo "alice-pass-2" | ctl api-user passwd --client="$QID" alice > /dev/null
[ "$(use "$AT")" = 401 ] || fail "alice's token survived passwd"
rf "$QID" "$QSEC" "$RT"; expect "refresh after passwd" 400 '"error":"invalid_grant"'
json "$(pw "$QID" "$QSEC" alice alice-pass-1)"; expect "old password after passwd" 400 '"error":"invalid_grant"'
json "$(pw "$QID" "$QSEC" alice alice-pass-2)"; expect "new password" 200; AT=$(jfield "$BODY" access_token); RT=$(jfield "$BODY" refresh_token)
[ "$(use "$DT")" = 200 ] || fail "dave's token died with alice's passwd"
# A removed user: tokens refused at once, refresh and password grants refused.
ctl api-user remove --client="$QID" alice > /dev/null
[ "$(use "$AT")" = 401 ] || fail "a removed user's token works"
rf "$QID" "$QSEC" "$RT"; expect "refresh of a removed user" 400 '"error":"invalid_grant"'
json "$(pw "$QID" "$QSEC" alice alice-pass-2)"; expect "password grant of a removed user" 400 '"error":"invalid_grant"'
# Removing the client takes its users and their tokens.
ctl api-client remove "$QID" > /dev/null
[ "$(use "$DT")" = 401 ] || fail "dave's token survived his client's removal"
ctl api-user show --client="$QID" | grep -q "No API users defined." || fail "users outlived their client"
if ctl api-user passwd --client="$QID" dave < /dev/null 2> "$T/err"; then fail "passwd of a removed client's user"; fi

# The audit trail: writes with tenant, user, action, resource and result; never a secret.
L="$T/api.log"
grep -q "audit tenant=$AID user=alice action=token.password resource=- result=200" "$L" || fail "no audit of the password grant"
grep -q "audit tenant=$AID user=alice action=token.password resource=- result=400" "$L" || fail "no audit of a refused grant"
grep -q "audit tenant=$QID user=alice action=bgp.create resource=$P result=202" "$L" || fail "no audit of the POST"
grep -q "audit tenant=$QID user=- action=bgp.replace resource=$P result=202" "$L" || fail "no audit of the PUT"
grep -q "audit tenant=$RID user=alice action=token.refresh resource=- result=200" "$L" || fail "no audit of the refresh"
for secret in "$ASEC" "$BSEC" "$RSEC" "$QSEC" alice-pass-1 alice-pass-2 carol-pass-1 dave-pass-12 "$CAROLPW" "$RT1" "$AT1" md5-secret-9; do
	grep -qF -- "$secret" "$L" && fail "a secret is in the log: $secret"
done

# tabbyctl's changes to clients and users go to syslog: a private mount namespace gives it
# a /dev/log of ours (a real datagram socket read by a small listener).
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
' "$T/log" "$T/syslog" & PIDS+=($!)
for _ in $(seq 30); do [ -S "$T/log" ] && break; sleep 0.1; done
audited() {
	unshare -m bash -c "mount -t tmpfs tmpfs /dev && ln -s '$T/log' /dev/log && mknod -m 666 /dev/null c 1 3 && exec \"\$0\" \"\$@\"" "$TABBYCTL" "$@"
}
S=$(audited api-client create syslogged -o json); SID=$(field "$S" client_id); SSEC=$(field "$S" client_secret)
echo "sys-pass-1" | audited api-user create --client="$SID" eve > /dev/null
echo "sys-pass-2" | audited api-user passwd --client="$SID" eve > /dev/null
audited api-user remove --client="$SID" eve > /dev/null
SSEC2=$(field "$(audited api-client rotate-secret "$SID" -o json)" client_secret)
audited api-client remove "$SID" > /dev/null
if audited api-user remove --client="$SID" eve 2> /dev/null; then fail "removed a user twice"; fi
sleep 0.2
for a in "user=- action=api-client.create resource=- result=ok" "user=eve action=api-user.create resource=- result=ok" \
	"user=eve action=api-user.passwd resource=- result=ok" "user=eve action=api-user.remove resource=- result=ok" \
	"user=- action=api-client.rotate-secret resource=- result=ok" "user=- action=api-client.remove resource=- result=ok" \
	"user=eve action=api-user.remove resource=- result=failed"; do
	grep -q "tabbyctl\[[0-9]*\]: audit tenant=$SID $a" "$T/syslog" || fail "syslog lacks: $a ($(cat "$T/syslog"))"
done
for secret in "$SSEC" "$SSEC2" sys-pass-1 sys-pass-2; do
	grep -qF -- "$secret" "$T/syslog" && fail "a secret is in syslog: $secret"
done
echo "api users: $PASSED grant checks; revocation on passwd/remove; createdBy/lastUpdatedBy; audit without secrets (tabby-api log and tabbyctl's syslog)"
