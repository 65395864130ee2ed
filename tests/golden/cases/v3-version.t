# tabbyctl version (the commit changes with every build), and node status, the v3 name of status.
tabbyctl version | sed 's/^\(Git commit: *\).*/\1COMMIT/'
tabbyctl node status
tabbyctl node status --node=node7 -o json
tabbyctl node status --help | head -4
tabbyctl get --help
