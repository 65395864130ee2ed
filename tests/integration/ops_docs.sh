#!/usr/bin/env bash
# The docs match the code (issue 19): every man page renders without a warning; every
# tabbyctl command and option (from `tabbyctl --help`, which prints the command table)
# is in tabbyctl(8) and completes in bash and zsh; every tabbyd and tabby-api flag (from
# --help) is in its man page, has its default in --help, and completes; no man page
# names a command or flag the programs lack.
. "$(dirname "$0")/lib.bash"
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
man_dir=${MAN_DIR:-$BUILD/man}
comp=$top/dist/completion
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# Rendering: man -l, and groff with every warning on.
for page in tabbyctl.8 tabbyd.8 tabby-api.8 tabby.7; do
	[ -s "$man_dir/$page" ] || die "$man_dir/$page not built (scdoc missing? run scripts/deps)"
	MANWIDTH=300 man -l --nh --nj "$man_dir/$page" > "$T/$page.txt" 2> "$T/$page.err" ||
		bad "man -l $page failed"
	LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$man_dir/$page" 2>> "$T/$page.err"
	[ -s "$T/$page.err" ] && bad "$page renders with warnings: $(head -3 "$T/$page.err")"
	grep -q "^NAME" "$T/$page.txt" || bad "$page has no NAME section"
done

# tabbyctl's commands, one a line, as --help prints the command table.
"$BUILD/tabbyctl" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  tabbyctl //p' > "$T/commands"
[ "$(wc -l < "$T/commands")" -ge 20 ] || die "tabbyctl --help lists only $(wc -l < "$T/commands") commands"
# The command words of a line: the tokens before the first <X>, [..] or --option.
words_of() { awk '{ w = ""; for (i = 1; i <= NF; i++) { if ($i ~ /^[<[-]/) break; w = w (w ? " " : "") $i }; print w }'; }
words_of < "$T/commands" > "$T/words"
man_ctl=$T/tabbyctl.8.txt
while read -r line; do
	w=$(echo "$line" | words_of)
	grep -qE "tabbyctl $w( |$)" "$man_ctl" || bad "tabbyctl(8) lacks the command 'tabbyctl $w'"
	for tok in $(echo "$line" | tr -d '[]' | tr '|' ' '); do
		grep -qF -- "$tok" "$man_ctl" || bad "tabbyctl(8) lacks '$tok' of 'tabbyctl $line'"
	done
done < "$T/commands"
# Options of the top-level help.
for opt in $("$BUILD/tabbyctl" --help | sed -n '/^Options:/,$p' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
	grep -qF -- "$opt" "$man_ctl" || bad "tabbyctl(8) lacks the option $opt"
done
# And back: every "tabbyctl WORDS" a synopsis block of the command sections shows is a command.
sed -n '/^BGP COMMANDS/,/^COMMAND OPTIONS/p' "$man_ctl" | grep -E '^ {8,}tabbyctl [a-z]' | sed -E 's/^ +tabbyctl //' | words_of | sort -u |
	while read -r w; do
		grep -qxF "$w" "$T/words" || bad "tabbyctl(8) shows 'tabbyctl $w', which is no command"
	done

# The daemons: each flag in --help has a default there and is in the man page; each
# flag the man page documents exists.
for prog in tabbyd tabby-api; do
	"$BUILD/$prog" --help > "$T/$prog.help"
	flags=$(grep -oE '^  (-h, )?--[a-z][a-z0-9-]*' "$T/$prog.help" | grep -oE -- '--[a-z0-9-]+')
	[ "$(echo "$flags" | wc -l)" -ge 8 ] || die "$prog --help lists too few flags: $flags"
	for f in $flags; do
		grep -qE -- "^ +(-h, )?$f( |,|$)" "$T/$prog.8.txt" || bad "$prog(8) lacks $f"
		case $f in --version|--help|--insecure-http|--tls-key) continue ;; esac
		# The flag's description: its line and the indented lines after it.
		awk -v f="$f" '$1 == f { on = 1; print; next } on && /^  +[^ -]/ && !/^  --/ { print; next } { on = 0 }' \
			"$T/$prog.help" | grep -q "default" || bad "$prog --help gives no default for $f"
	done
	for f in $(grep -oE -- '^ {7}(-h, )?--[a-z][a-z0-9-]*' "$T/$prog.8.txt" | grep -oE -- '--[a-z0-9-]+' | sort -u); do
		echo "$flags" | grep -qxF -- "$f" || bad "$prog(8) documents $f, which $prog lacks"
	done
done

# bash completion, as bash-completion loads it, with our binaries first on PATH.
PATH=$BUILD:$PATH bash -c '
	. /usr/share/bash-completion/bash_completion
	. "$1/tabby.bash"
	complete_line() {  # LINE: prints what TAB offers at its end
		COMP_LINE=$1; COMP_POINT=${#1}
		read -ra COMP_WORDS <<< "$1"; [[ $1 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
		local spec; spec=$(complete -p "${COMP_WORDS[0]}") || { echo "no completion for ${COMP_WORDS[0]}"; return; }
		local fn=${spec#*-F }; fn=${fn%% *}
		"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	}
	fails=0
	while read -r line; do
		read -ra ws <<< "$(echo "$line" | awk "{ for (i = 1; i <= NF; i++) { if (\$i ~ /^[<[-]/) break; print \$i } }" | tr "\n" " ")"
		typed="tabbyctl "
		for w in "${ws[@]}"; do
			complete_line "$typed" | grep -qxF -- "$w" || { echo "FAIL: bash: \"$typed<TAB>\" does not offer $w" >&2; fails=$((fails + 1)); }
			typed+="$w "
		done
		for opt in $(echo "$line" | grep -oE -- "--[a-z][a-z0-9-]*"); do
			complete_line "${typed}--" | grep -qE -- "^$opt=?\$" || { echo "FAIL: bash: \"${typed}--<TAB>\" does not offer $opt" >&2; fails=$((fails + 1)); }
		done
	done < "$2"
	for prog in tabbyd tabby-api; do
		for f in $(grep -oE -- "^  (-h, )?--[a-z][a-z0-9-]*" "$3/$prog.help" | grep -oE -- "--[a-z0-9-]+"); do
			complete_line "$prog --" | grep -qE -- "^$f=?\$" || { echo "FAIL: bash: \"$prog --<TAB>\" does not offer $f" >&2; fails=$((fails + 1)); }
		done
	done
	exit $fails
' _ "$comp" "$T/commands" "$T" || bad "bash completion (above)"

# zsh: the completion function itself, with compadd and _gnu_generic standing in for zsh's.
zsh -n "$comp/_tabbyctl" || bad "_tabbyctl does not parse"
zsh_offers() {  # SERVICE WORD...: what _tabbyctl offers after the words (the last is being typed)
	PATH=$BUILD:$PATH zsh -f -c '
		compadd() { while [[ $# -gt 0 && $1 != -- ]]; do shift; done; shift; print -l -- "$@"; }
		_gnu_generic() { print -- "gnu-generic"; }
		service=$1; shift; words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
		. "'"$comp"'/_tabbyctl"' _ "$@"
}
zsh_offers tabbyctl tabbyctl node bgp peer "" | grep -qx add || bad "zsh: 'tabbyctl node bgp peer <TAB>' does not offer add"
zsh_offers tabbyctl tabbyctl node log-level "" | grep -qx debug || bad "zsh: 'tabbyctl node log-level <TAB>' does not offer debug"
zsh_offers tabbyctl tabbyctl device create --no | grep -qx -- --node= || bad "zsh: 'tabbyctl device create --no<TAB>' does not offer --node="
zsh_offers tabbyd tabbyd -- | grep -qx gnu-generic || bad "zsh: tabbyd does not complete from --help"
while read -r w; do
	set -- $w
	zsh_offers tabbyctl tabbyctl "${@:1:$#-1}" "" | grep -qxF -- "${!#}" ||
		bad "zsh: 'tabbyctl ${*:1:$#-1} <TAB>' does not offer ${!#}"
done < "$T/words"

[ $fails = 0 ] || die "$fails mismatch(es) between the code and its docs or completion"
echo "docs: $(wc -l < "$T/commands") tabbyctl commands and every daemon flag in the man pages and completion; 4 pages render cleanly"
