# bash completion for ckptfs.  The candidates come from the binary itself
# (`ckptfs __complete -- WORD...`: commands from its command table, options
# from each command's --help, project and snapshot names from the
# repository), so this file never goes out of date.  No candidates: files.
_ckptfs() {
	# Split the line ourselves: bash's own words break at ':', which every
	# snapshot name (2026-02-14T10:30) contains.
	local line=${COMP_LINE:0:COMP_POINT} words cands bcur=${COMP_WORDS[COMP_CWORD]}
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] ]] && words+=("")
	local cur=${words[${#words[@]} - 1]}
	local IFS=$'\n'
	cands=($("${words[0]}" __complete -- "${words[@]:1}" 2>/dev/null))
	if [ ${#cands[@]} -eq 0 ]; then
		compopt -o default 2>/dev/null
		COMPREPLY=()
		return
	fi
	# bash replaces only its own last word (after the last ':'): give it
	# each candidate without the part before that.
	local prefix=${cur%"$bcur"}
	COMPREPLY=("${cands[@]#"$prefix"}")
}
complete -F _ckptfs ckptfs
