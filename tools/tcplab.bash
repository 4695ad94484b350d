# bash completion for tcplab(1). Names come from tcplab itself at completion time, never from
# a list kept here: commands from `tcplab help`, scenarios from `tcplab list --names`, variants
# from `tcplab list --cases`, parameters from `tcplab list --params`, run's options from
# `tcplab help run`.
# SPDX-License-Identifier: MIT

_tcplab_words()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# the scenario named on the line (the first word after `run` or `explain` that is not an option
# or an option's value)
_tcplab_scenario()
{
	local i w skip=
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $skip ]]; then
			skip=
			continue
		fi
		case $w in
		--variant | --set | --impair | --results | --expect-as | --repeat | --port | \
			--server-cmd | --client-cmd) skip=1 ;;
		-*) ;;
		*)
			printf '%s' "$w"
			return
			;;
		esac
	done
}

_tcplab()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local tcplab=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]} sc
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		_tcplab_words "$("$tcplab" help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')
--help
--version" "$cur"
		return
	fi
	case $cmd in
	help)
		((COMP_CWORD == 2)) &&
			_tcplab_words "$("$tcplab" help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')" "$cur"
		;;
	explain)
		((COMP_CWORD == 2)) && _tcplab_words "$("$tcplab" list --names 2>/dev/null)" "$cur"
		;;
	list)
		_tcplab_words "$("$tcplab" help list 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u)" "$cur"
		;;
	show)
		case $prev in
		--conn | --filter) return ;; # a port, an address, an expression: nothing to offer
		esac
		if [[ $cur == -* ]]; then
			_tcplab_words "$("$tcplab" help show 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u)" "$cur"
			return
		fi
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -X '!*.@(pcap|pcapng|cap)' -- "$cur") $(compgen -d -- "$cur"))
		;;
	facts)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		;;
	run)
		sc=$(_tcplab_scenario)
		case $prev in
		--variant | --expect-as)
			_tcplab_words "$("$tcplab" list --cases 2>/dev/null |
				awk -v s="$sc" '$1 == s && $2 == $3 { print $2 }')" "$cur"
			return
			;;
		--set)
			compopt -o nospace 2>/dev/null
			_tcplab_words "$("$tcplab" list --params 2>/dev/null |
				awk -v s="$sc" '$1 == s { print $2 "=" }')" "$cur"
			return
			;;
		--impair)
			compopt -o nospace 2>/dev/null
			_tcplab_words "drop
blackhole
delay=
loss=
reorder=
duplicate=
corrupt=
rate=" "$cur"
			return
			;;
		--results)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
			return
			;;
		--repeat | --port | --server-cmd | --client-cmd)
			return
			;;
		esac
		if [[ -z $sc && $cur != -* ]]; then
			_tcplab_words "$("$tcplab" list --names 2>/dev/null)" "$cur"
		else
			_tcplab_words "$("$tcplab" help run 2>/dev/null | grep -- '^  --' |
				grep -o -- '--[a-z-]*')" "$cur"
		fi
		;;
	esac
}
complete -F _tcplab tcplab
