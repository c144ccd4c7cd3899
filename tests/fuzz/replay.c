/*
 * replay.c - run a libFuzzer target over a corpus without libFuzzer.
 *
 * `make test` builds every tests/fuzz/fuzz_X.c with this driver as
 * replay_fuzz_X and runs it over tests/fuzz/corpus/X: every committed
 * seed and crash reproducer is a regression input, in the plain and the
 * ASan/UBSan build.  The target aborts on any inconsistency it checks;
 * this driver fails if a directory is empty or a file can't be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Optional in a target, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { REPLAY_MAX_INPUT = 1 << 20 };

static int run_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "replay: %s: cannot open directory\n", argv[1]);
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		if (run_file(path)) {
			closedir(d);
			return 1;
		}
		n++;
	}
	closedir(d);
	printf("replay: %d inputs from %s, no crash\n", n, argv[1]);
	return n > 0 ? 0 : 1;
}
