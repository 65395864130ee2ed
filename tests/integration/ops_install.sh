#!/usr/bin/env bash
# Installing tabby (issue 19): `make install DESTDIR=... PREFIX=...` lays out exactly the
# expected files; the installed systemd units pass `systemd-analyze verify`; `make deb`
# (scripts/deb) builds a package whose dependencies are shared libraries only, which
# installs (each program runs --version and --help), upgrades to a second version, and
# leaves nothing behind after dpkg -r and dpkg -P.
. "$(dirname "$0")/lib.bash"
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
installed_pkg=0
trap '[ $installed_pkg = 0 ] || dpkg -P tabby > /dev/null 2>&1; finish' EXIT

install_to() {  # PREFIX [DESTDIR]: make install into the test's build
	make -s -C "$top" install BUILD="$BUILD" PREFIX="$1" DESTDIR="${2:-}" > "$T/install.log" 2>&1 ||
		{ cat "$T/install.log"; die "make install PREFIX=$1 DESTDIR=${2:-} failed"; }
}

# The layout under /usr, exactly.
install_to /usr "$T/stage"
(cd "$T/stage" && find . ! -type d | sort) > "$T/files"
diff -u - "$T/files" <<'LIST' || die "make install PREFIX=/usr laid out other files (diff above)"
./etc/default/tabby-api
./etc/default/tabbyd
./usr/bin/tabbyctl
./usr/lib/systemd/system/tabby-api.service
./usr/lib/systemd/system/tabbyd.service
./usr/sbin/tabby-api
./usr/sbin/tabbyd
./usr/share/bash-completion/completions/tabby-api
./usr/share/bash-completion/completions/tabbyctl
./usr/share/bash-completion/completions/tabbyd
./usr/share/man/man7/tabby.7
./usr/share/man/man8/tabby-api.8
./usr/share/man/man8/tabbyctl.8
./usr/share/man/man8/tabbyd.8
./usr/share/zsh/vendor-completions/_tabbyctl
LIST
grep -qx "ExecStart=/usr/sbin/tabbyd \$TABBYD_OPTS" "$T/stage/usr/lib/systemd/system/tabbyd.service"
grep -qx "EnvironmentFile=-/etc/default/tabbyd" "$T/stage/usr/lib/systemd/system/tabbyd.service"
[ -x "$T/stage/usr/sbin/tabbyd" ] && "$T/stage/usr/sbin/tabbyd" --version | grep -q "^tabbyd "

# Another prefix: everything moves under it, and the units point there. Installed for
# real (no DESTDIR), so that systemd-analyze finds the programs and man pages they name.
install_to "$T/prefix"
(cd "$T/prefix" && find . ! -type d | sort) > "$T/files2"
[ "$(wc -l < "$T/files2")" = 15 ] || die "PREFIX=$T/prefix: $(cat "$T/files2")"
grep -q "^./etc/default/tabbyd$" "$T/files2" && grep -q "^./share/zsh/site-functions/_tabbyctl$" "$T/files2"
grep -qx "ExecStart=$T/prefix/sbin/tabbyd \$TABBYD_OPTS" "$T/prefix/lib/systemd/system/tabbyd.service"
for unit in tabbyd tabby-api; do
	MANPATH=$T/prefix/share/man systemd-analyze verify "$T/prefix/lib/systemd/system/$unit.service" \
		> "$T/verify-$unit" 2>&1 || { cat "$T/verify-$unit"; die "systemd-analyze verify $unit.service"; }
	[ -s "$T/verify-$unit" ] && { cat "$T/verify-$unit"; die "systemd-analyze verify $unit.service warns"; }
	echo "systemd-analyze verify $unit.service: clean"
done
# The installed tabbyd.service lets devices make their namespaces (issue 15): the
# capabilities, the namespace kind, /run/netns and /proc/sys/net writable, and the
# system calls of device.c, each in an allowed SystemCallFilter= set.
unit=$T/prefix/lib/systemd/system/tabbyd.service
for cap in CAP_SYS_ADMIN CAP_DAC_OVERRIDE CAP_NET_ADMIN; do
	for key in CapabilityBoundingSet AmbientCapabilities; do
		grep "^$key=" "$unit" | grep -qw "$cap" || die "tabbyd.service: $key= lacks $cap"
	done
done
ns=$(sed -n 's/^RestrictNamespaces=//p' "$unit")
[ "$ns" = no ] || echo " $ns " | grep -q " net " || die "tabbyd.service: RestrictNamespaces=$ns forbids network namespaces"
for path in /run/netns /proc/sys/net; do
	sed -n 's/^ReadWritePaths=//p' "$unit" | tr ' ' '\n' | sed 's/^-//' | grep -qx "$path" ||
		die "tabbyd.service: $path is not in ReadWritePaths="
done
calls() {  # SET...: the system calls of systemd's sets (and of the sets they hold)
	local set
	for set; do
		case $set in
		@*) calls $(systemd-analyze syscall-filter "$set" | sed -n 's/^ *\([@a-z0-9_-]*\)$/\1/p' |
			grep -vx -- "$set") ;;
		*) echo "$set" ;;
		esac
	done
}
allowed=$(calls $(sed -n 's/^SystemCallFilter=//p' "$unit"))
for call in setns unshare mount umount2 socket bind; do
	echo "$allowed" | grep -qx "$call" || die "tabbyd.service: SystemCallFilter= forbids $call"
done
echo "tabbyd.service: devices' namespaces allowed (capabilities, namespaces, paths, system calls)"
# The build's own prefix back to the default.
cmake -S "$top" -B "$BUILD" -DCMAKE_INSTALL_PREFIX=/usr/local > /dev/null

# The Debian package, with Debian's tools, timed; then a second version of it (an upgrade).
start=$SECONDS
BUILD=$T/deb1 DEB_VERSION=0.1.0+t1 "$top/scripts/deb" > "$T/deb1.out" || die "scripts/deb failed"
echo "deb built in $((SECONDS - start)) s"
deb1=$(tail -n1 "$T/deb1.out") deb2=$T/tabby_0.1.0+t2.deb
# The version to upgrade to: the same package, its version changed (a second build took 45 s).
dpkg-deb -R "$deb1" "$T/deb2"
sed -i 's/^Version: .*/Version: 0.1.0+t2/' "$T/deb2/DEBIAN/control"
dpkg-deb --root-owner-group -b "$T/deb2" "$deb2" > /dev/null || die "dpkg-deb -b of the second version failed"
deps=$(dpkg-deb -f "$deb1" Depends)
echo "Depends: $deps"
for d in $(echo "$deps" | sed 's/([^)]*)//g' | tr ',|' '  '); do
	case $d in lib*) ;; *) die "the package depends on $d, which is no shared library" ;; esac
done
echo "$deps" | grep -q libsqlite3 && echo "$deps" | grep -q libmicrohttpd || die "Depends lacks libraries: $deps"

# One test at a time owns this machine's dpkg database entry for tabby.
exec 9> /tmp/tabby-dpkg-test.lock
flock -w 120 9 || die "another test holds the dpkg lock"
dpkg-query -W -f='${Status}' tabby 2>/dev/null | grep -q "ok installed" &&
	die "a tabby package is installed on this machine already; not touching it"
installed_pkg=1
runs_each() {  # VERSION: each installed program runs and says its version
	for prog in /usr/bin/tabbyctl /usr/sbin/tabbyd /usr/sbin/tabby-api; do
		"$prog" --version | grep -qx "$(basename "$prog") $1" || die "$prog --version: $("$prog" --version)"
		"$prog" --help > /dev/null || die "$prog --help failed"
	done
}
dpkg -i "$deb1" > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; die "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Version}' tabby)" = 0.1.0+t1 ]
runs_each 0.1.0
dpkg -L tabby | while read -r f; do [ -d "$f" ] || echo "$f"; done | sort > "$T/pkgfiles"
echo "installed $(wc -l < "$T/pkgfiles") files"
systemd-analyze verify /lib/systemd/system/tabbyd.service /lib/systemd/system/tabby-api.service \
	> "$T/verify" 2>&1 || { cat "$T/verify"; die "systemd-analyze verify of the installed units"; }
[ -s "$T/verify" ] && { cat "$T/verify"; die "systemd-analyze verify warns on the installed units"; }
man -w tabbyctl > /dev/null && man -w tabby.7 > /dev/null || die "man cannot find the installed pages"
# Upgrade: the second version replaces the first, the conffiles stay as they were.
echo 'TABBYD_OPTS="--ip 192.0.2.1"' >> /etc/default/tabbyd
dpkg -i "$deb2" > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; die "upgrade failed"; }
[ "$(dpkg-query -W -f='${Version}' tabby)" = 0.1.0+t2 ] || die "not upgraded"
grep -q '192.0.2.1' /etc/default/tabbyd || die "the upgrade lost /etc/default/tabbyd's change"
runs_each 0.1.0
# Remove: only the conffiles stay; purge: nothing.
dpkg -r tabby > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; die "dpkg -r failed"; }
left=$(while read -r f; do [ ! -e "$f" ] || echo "$f"; done < "$T/pkgfiles")
[ "$left" = "$(printf '%s\n' /etc/default/tabby-api /etc/default/tabbyd)" ] ||
	die "after dpkg -r, left: $left"
dpkg -P tabby > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; die "dpkg -P failed"; }
installed_pkg=0
left=$(while read -r f; do [ ! -e "$f" ] || echo "$f"; done < "$T/pkgfiles")
[ -z "$left" ] || die "after dpkg -P, left: $left"
dpkg-query -W tabby > /dev/null 2>&1 && die "dpkg still knows tabby"
echo "install: layout exact, units verify clean, deb installs, upgrades, removes and purges cleanly"
