# bash completion for tabbyctl, tabbyd and tabby-api (installed under each name).
# tabbyctl names the words that may come next itself (tabbyctl __complete, read from
# its command table), so this stays true as commands come and go; the daemons'
# options come from their --help (bash-completion's _longopt).

_tabbyctl_complete()
{
	local line=${COMP_LINE:0:COMP_POINT} cur words
	# Whole words, '=' included (bash would split --node=x at the '=').
	read -ra words <<< "$line"
	if [[ -z $line || $line == *[[:space:]] ]]; then
		cur=
	else
		cur=${words[-1]}
		unset 'words[-1]'
	fi
	# A value after '=' is the user's to type.
	[[ $cur == *=* ]] && { COMPREPLY=(); return; }
	local IFS=$'\n'
	COMPREPLY=($("${words[0]}" __complete "${words[@]:1}" "$cur" 2>/dev/null))
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi
}
complete -F _tabbyctl_complete tabbyctl
if declare -F _longopt > /dev/null; then
	complete -F _longopt tabbyd tabby-api
fi
