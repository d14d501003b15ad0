"""The tutorial's CPU sum, as it wrote it: serial, then split over two processes whose
partial sums come back on a queue. Usage: tutorial_sum.py serial|split N"""
import sys
import time
from multiprocessing import Process, Queue


def add_range(start, end, queue):
    result = 0
    for i in range(start, end):
        result += i
    queue.put(result)


def main():
    mode, n = sys.argv[1], int(float(sys.argv[2]))
    began = time.perf_counter()
    if mode == "serial":
        result = 0
        for i in range(n):
            result += i
    else:
        queue = Queue()
        half = n // 2
        workers = [Process(target=add_range, args=(a, b, queue)) for a, b in ((0, half), (half, n))]
        for w in workers:
            w.start()
        result = queue.get() + queue.get()
        for w in workers:
            w.join()
    ms = (time.perf_counter() - began) * 1000
    print(f'{{"result": "{result}", "ms": {ms:.1f}}}')


if __name__ == "__main__":
    main()
