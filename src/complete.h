/* complete.h — shell completion, answered by the binary itself.
 *
 * The bash and zsh scripts (contrib/ckptfs.bash, contrib/_ckptfs) call
 * `ckptfs __complete -- WORD...` with the words typed so far after
 * "ckptfs", the last one being the word under the cursor (possibly empty).
 * The answer is one candidate per line, each starting with that word, from
 * the same sources --help uses: command names from the command table,
 * options from the command's own --help text, project and snapshot names
 * from the repository.  Printing nothing lets the shell complete file
 * names (DIR and PATH arguments).  Nothing is written anywhere and every
 * error is silent: completion must never print into the user's prompt.
 */
#ifndef CKPTFS_SRC_COMPLETE_H
#define CKPTFS_SRC_COMPLETE_H

#include <stddef.h>

#include "src/commands.h"

/* Answer one completion request; argv[0] is "__complete".  Always 0. */
int complete_run(const struct command *cmds, size_t ncmds, int argc, char **argv);

#endif
