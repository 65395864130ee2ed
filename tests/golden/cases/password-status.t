# MD5 passwords: validated, stored, never printed back. Status without a running agent.
tabbyctl bgp peer add 192.0.2.10 as 64555 --password=abc
tabbyctl bgp peer add 192.0.2.10 as 64555 --password=$'bad\tkey1'
tabbyctl bgp peer add 192.0.2.10 as 64555 --password=secret99
tabbyctl bgp peer show -o json
echo testkey1 | tabbyctl node bgp peer add 198.51.100.2 as 65020 --password=-
tabbyctl node bgp peer show -o yaml
tabbyctl bgp peer show --password=x
tabbyctl status
tabbyctl status -o json
tabbyctl status --help
