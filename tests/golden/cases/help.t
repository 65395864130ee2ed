tabbyctl --help
tabbyctl node --help
tabbyctl bgp peer show --help
tabbyctl
