# Writes an nft ruleset with N rules (awk -v n=10000 -f gen_rules.awk), in the
# mix a real firewall has: prefixes, port ranges, anonymous sets, counters,
# conntrack state, interface names, logging and jumps.
BEGIN {
  srand(42)
  print "table inet bench {"
  print "\tchain users {"
  print "\t\tcounter accept"
  print "\t}"
  print ""
  print "\tchain input {"
  print "\t\ttype filter hook input priority filter; policy drop;"
  for (i = 0; i < n; i++) {
    a = int(rand() * 223) + 1; b = int(rand() * 256); c = int(rand() * 256)
    p = int(rand() * 60000) + 1
    k = i % 8
    if (k == 0) printf "\t\tip saddr %d.%d.%d.0/24 tcp dport %d counter accept\n", a, b, c, p
    else if (k == 1) printf "\t\tip daddr %d.%d.%d.%d udp dport %d-%d drop\n", a, b, c, i % 250 + 1, p, p + 100
    else if (k == 2) printf "\t\tiifname \"eth%d\" tcp dport { %d, %d, %d } accept\n", i % 16, p, p + 1, p + 7
    else if (k == 3) printf "\t\tct state established,related ip saddr %d.%d.0.0/16 accept\n", a, b
    else if (k == 4) printf "\t\tip6 saddr 2001:db8:%x::/48 tcp sport %d jump users\n", i % 65535, p
    else if (k == 5) printf "\t\tmeta mark 0x%08x ip protocol tcp counter drop\n", i
    else if (k == 6) printf "\t\ttcp flags syn / syn,ack ip saddr %d.%d.%d.%d log prefix \"r%d \" drop\n", a, b, c, i % 250 + 1, i
    else printf "\t\tip saddr . tcp dport { %d.%d.%d.1 . %d, %d.%d.%d.2 . %d } accept\n", a, b, c, p, a, b, c, p + 1
  }
  print "\t}"
  print "}"
}
