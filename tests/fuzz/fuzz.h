/* fuzz.h — the entry point every fuzz target defines.
 *
 * Each tests/fuzz/fuzz_<name>.c is built two ways: with clang's libFuzzer
 * (`make fuzz`, which explores) and with the plain compiler linked to
 * replay.c (`make check`, which feeds it every file of the committed corpus
 * tests/fuzz/corpus/<name>/: seeds and the crashers found so far).
 */
#ifndef CKPTFS_TESTS_FUZZ_H
#define CKPTFS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
