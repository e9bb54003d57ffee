// ggml's block quantization reference, for tests/oracle_kquants.rs: `kquants TYPE IN BLOCKS
// VALUES` reads f32 values from IN (a multiple of 256), writes quantize_row_<TYPE>_ref's blocks
// to BLOCKS and dequantize_row_<TYPE>'s values of those blocks to VALUES, for the K-quants and
// the 32-element types. Linked against llama.cpp's libggml-base.a, the library llama-quantize
// quantizes with.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void quantize_row_q4_0_ref(const float *x, void *y, int64_t k);
void quantize_row_q4_1_ref(const float *x, void *y, int64_t k);
void quantize_row_q5_0_ref(const float *x, void *y, int64_t k);
void quantize_row_q5_1_ref(const float *x, void *y, int64_t k);
void quantize_row_q8_0_ref(const float *x, void *y, int64_t k);
void quantize_row_mxfp4_ref(const float *x, void *y, int64_t k);
void dequantize_row_q4_0(const void *x, float *y, int64_t k);
void dequantize_row_q4_1(const void *x, float *y, int64_t k);
void dequantize_row_q5_0(const void *x, float *y, int64_t k);
void dequantize_row_q5_1(const void *x, float *y, int64_t k);
void dequantize_row_q8_0(const void *x, float *y, int64_t k);
void dequantize_row_mxfp4(const void *x, float *y, int64_t k);
void quantize_row_q2_K_ref(const float *x, void *y, int64_t k);
void quantize_row_q3_K_ref(const float *x, void *y, int64_t k);
void quantize_row_q4_K_ref(const float *x, void *y, int64_t k);
void quantize_row_q5_K_ref(const float *x, void *y, int64_t k);
void quantize_row_q6_K_ref(const float *x, void *y, int64_t k);
void dequantize_row_q2_K(const void *x, float *y, int64_t k);
void dequantize_row_q3_K(const void *x, float *y, int64_t k);
void dequantize_row_q4_K(const void *x, float *y, int64_t k);
void dequantize_row_q5_K(const void *x, float *y, int64_t k);
void dequantize_row_q6_K(const void *x, float *y, int64_t k);

static void *read_all(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(*len);
    if (fread(buf, 1, *len, f) != (size_t)*len) { perror(path); exit(2); }
    fclose(f);
    return buf;
}

static void write_all(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) { perror(path); exit(2); }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: kquants TYPE IN BLOCKS VALUES\n"); return 2; }
    long len;
    float *x = read_all(argv[2], &len);
    int64_t n = len / 4;
    if (n % 256 != 0) { fprintf(stderr, "%lld values is not a multiple of 256\n", (long long)n); return 2; }
    size_t block, elems = 256;
    void (*quantize)(const float *, void *, int64_t);
    void (*dequantize)(const void *, float *, int64_t);
    if (!strcmp(argv[1], "q4_0")) { elems = 32; block = 18; quantize = quantize_row_q4_0_ref; dequantize = dequantize_row_q4_0; }
    else if (!strcmp(argv[1], "q4_1")) { elems = 32; block = 20; quantize = quantize_row_q4_1_ref; dequantize = dequantize_row_q4_1; }
    else if (!strcmp(argv[1], "q5_0")) { elems = 32; block = 22; quantize = quantize_row_q5_0_ref; dequantize = dequantize_row_q5_0; }
    else if (!strcmp(argv[1], "q5_1")) { elems = 32; block = 24; quantize = quantize_row_q5_1_ref; dequantize = dequantize_row_q5_1; }
    else if (!strcmp(argv[1], "q8_0")) { elems = 32; block = 34; quantize = quantize_row_q8_0_ref; dequantize = dequantize_row_q8_0; }
    else if (!strcmp(argv[1], "mxfp4")) { elems = 32; block = 17; quantize = quantize_row_mxfp4_ref; dequantize = dequantize_row_mxfp4; }
    else if (!strcmp(argv[1], "q2_K")) { block = 84; quantize = quantize_row_q2_K_ref; dequantize = dequantize_row_q2_K; }
    else if (!strcmp(argv[1], "q3_K")) { block = 110; quantize = quantize_row_q3_K_ref; dequantize = dequantize_row_q3_K; }
    else if (!strcmp(argv[1], "q4_K")) { block = 144; quantize = quantize_row_q4_K_ref; dequantize = dequantize_row_q4_K; }
    else if (!strcmp(argv[1], "q5_K")) { block = 176; quantize = quantize_row_q5_K_ref; dequantize = dequantize_row_q5_K; }
    else if (!strcmp(argv[1], "q6_K")) { block = 210; quantize = quantize_row_q6_K_ref; dequantize = dequantize_row_q6_K; }
    else { fprintf(stderr, "unknown type %s\n", argv[1]); return 2; }
    size_t bytes = (size_t)(n / elems) * block;
    void *y = malloc(bytes);
    float *back = malloc(n * sizeof(float));
    quantize(x, y, n);
    dequantize(y, back, n);
    write_all(argv[3], y, bytes);
    write_all(argv[4], back, n * sizeof(float));
    return 0;
}
