package syscall

//go:generate go run ./gen
