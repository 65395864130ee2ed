# Two tenants of the peering API for tests with a node agent (after netns.bash): API
# clients acme (A) and beta (B), each with a device on node n1 (their namespaces are
# registered for cleanup), and helpers to talk to tabby-api at $API as them.
ctl() { "$TABBYCTL" "$@"; }
field() { echo "$1" | sed -n "s/.*\"$2\": \"\\(.*\\)\".*/\\1/p"; }

# Sets AID ASEC ADEV and BID BSEC BDEV.
two_tenants() {
	local a b
	a=$(ctl api-client create acme -o json); b=$(ctl api-client create beta -o json)
	AID=$(field "$a" client_id); ASEC=$(field "$a" client_secret)
	BID=$(field "$b" client_id); BSEC=$(field "$b" client_secret)
	ADEV=$(ctl device create --node=n1 --owner="$AID"); BDEV=$(ctl device create --node=n1 --owner="$BID")
	DEVNS+=("$(dev_ns "$ADEV")" "$(dev_ns "$BDEV")")
}

token() { curl -s -u "$1:$2" -d grant_type=client_credentials "$API/oauth2/v1/token" | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/'; }
api() { curl -s -X "$1" "$API$2" -H "Authorization: Bearer $3" ${4:+-H 'Content-Type: application/json' -d "$4"}; }
status_of() { api GET "/ne/v1/bgp/$1" "$2" | sed -n 's/.*"provisioningStatus":"\([A-Z_]*\)".*/\1/p'; }
state_of() { api GET "/ne/v1/bgp/$1" "$2" | sed -n 's/.*"state":"\{0,1\}\([A-Za-z]*\).*/\1/p'; }
# is PEERING TOKEN STATUS [STATE]
is() { [ "$(status_of "$1" "$2")" = "$3" ] && { [ -z "${4:-}" ] || [ "$(state_of "$1" "$2")" = "$4" ]; }; }
