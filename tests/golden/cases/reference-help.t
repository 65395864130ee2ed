# The help menu of the reference page, word for word.
tabbyctl bgp --help
