# tabbyctl api-user: the users of a tenant (the API's password grant). Client ids are
# random: $ID is read back from the store and shown as <CLIENT_ID>; passwords too.
tabbyctl api-user --help
tabbyctl api-user create alice
tabbyctl api-user create --client=nope alice < /dev/null
tabbyctl api-user create --client=00000000-0000-4000-8000-000000000000 alice < /dev/null
tabbyctl api-user show
tabbyctl api-user frob
tabbyctl api-client create acme | sed 's/: .*/: <masked>/'
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); echo pass-word-1 | tabbyctl api-user create --client=$ID alice | sed "s/$ID/<CLIENT_ID>/"
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-user create --client=$ID bob < /dev/null | sed -e "s/$ID/<CLIENT_ID>/" -e 's/^Password: [0-9a-f]\{32\}$/Password: <generated>/'
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); echo pass-word-2 | tabbyctl api-user create --client=$ID alice 2>&1 | sed "s/$ID/<CLIENT_ID>/"
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); echo short | tabbyctl api-user passwd --client=$ID alice
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-user create --client=$ID 'two words' < /dev/null
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); echo pass-word-3 | tabbyctl api-user passwd --client=$ID alice | sed "s/$ID/<CLIENT_ID>/"
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-user show --client=$ID -o json | sed -e "s/$ID/<CLIENT_ID>/" -e 's/"created": ".*"/"created": "<time>"/'
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-user remove --client=$ID alice | sed "s/$ID/<CLIENT_ID>/"
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-user remove --client=$ID alice 2>&1 | sed "s/$ID/<CLIENT_ID>/"
ID=$(tabbyctl api-client show -o json | sed -n 's/.*"client_id": "\(.*\)",/\1/p'); tabbyctl api-client remove $ID > /dev/null; tabbyctl api-user show
