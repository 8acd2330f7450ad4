// readfile: a guest reading a file in 4 KiB read()s, as tools that stream a
// file do. Argument: the file. Prints the bytes read and a checksum of them,
// so that both emulators are seen to read the same data.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: readfile FILE\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  static unsigned char buf[4096];
  unsigned long long total = 0;
  unsigned int sum = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      perror("read");
      return 1;
    }
    if (n == 0)
      break;
    total += n;
    // One word per read: the cost measured is the read, not the checksum.
    sum = sum * 31 + buf[0] + buf[n - 1];
  }
  printf("bytes %llu sum %08x\n", total, sum);
  return 0;
}
