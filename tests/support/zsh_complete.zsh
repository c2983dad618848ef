#!/usr/bin/env zsh
# zsh_complete.zsh COMPDIR LINE: print the matches zsh's completion system offers for the last
# word of LINE (as if Tab were pressed there), one per line, with completion functions from
# COMPDIR first in $fpath. An interactive zsh runs in a pseudo-terminal (zsh/zpty); compadd is
# wrapped to print what it adds, and a comppostfuncs hook ends the shell once completion is done.
emulate -L zsh
zmodload zsh/zpty || exit 1
compdir=$1
line=$2
setup=$(mktemp /tmp/zsh-complete.XXXXXX)
trap 'rm -f $setup' EXIT
cat > $setup <<SETUP
PROMPT=''
fpath=(${(q)compdir} \$fpath)
autoload -U compinit && compinit -u -D
zstyle ':completion:*' menu no
compadd() {
  # -O, -A or -D ask for the matches without adding them: not a completion to show.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
    builtin compadd "\$@"
    return \$?
  fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local r=\$?
  local h
  # Each on a line of its own (the first would follow the echoed command line).
  for h in \$__hits; do print -r -- \$'\\n'"@@MATCH \$h"; done
  builtin compadd "\$@"
}
_zsh_complete_done() { print -r -- "@@DONE"; exit }
comppostfuncs=(_zsh_complete_done)
bindkey '^I' complete-word
print -r -- "@@READY"
SETUP
zpty z zsh -f -i
zpty -w z "source ${(q)setup}"
local out buf="" i
for ((i = 0; i < 200; i++)); do
  if zpty -r -t z out; then buf+=$out; [[ $buf == *@@READY* ]] && break; else sleep 0.05; fi
done
[[ $buf == *@@READY* ]] || { print -u2 "zsh did not start"; zpty -d z; exit 1 }
buf=""
zpty -w -n z "$line"$'\t'
for ((i = 0; i < 400; i++)); do
  if zpty -r -t z out; then buf+=$out; [[ $buf == *@@DONE* ]] && break; else sleep 0.05; fi
done
zpty -d z
[[ $buf == *@@DONE* ]] || { print -u2 "completion did not finish: $buf"; exit 1 }
local -a seen
local l
for l in ${(f)buf//$'\r'/}; do
  [[ $l == @@MATCH\ * ]] && seen+=("${l#@@MATCH }")
done
print -rl -- ${(u)seen}
