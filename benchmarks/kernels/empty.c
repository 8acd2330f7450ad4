// Does nothing: what running it costs is the emulator's start-up and exit.
int main(void) { return 0; }
