// sgemm GFLOP/s of OpenBLAS and oneDNN on ClipAD's linear-layer shapes: C[m,n] = A[m,k] · W[n,k]^T (row-major,
// W transposed, as Tensor.linear calls it). One library and one threading mode per process, so spinning worker
// threads of the other library never share the cores; run two processes alternately to compare (see README.md).
//
//   cc -O2 sgemm_libraries.c -o sgemm_libraries -lopenblas -ldnnl -lgomp -lpthread   (Debian: libopenblas-dev libdnnl-dev)
//   ./sgemm_libraries openblas|openblas-split|dnnl|dnnl-split[-kn] [reps] [MxNxK ...]
//
// Without shapes: every linear-layer shape of ViT-B/16, ViT-B/16+ and ViT-L/14 at the row counts ClipAD runs
// (text tower 34 rows = 2 prompts cut at their end token, batch 1, batch 8, ViT-L at 336 and 518 px).
//
// openblas:       one call, OpenBLAS's own threads (OPENBLAS_NUM_THREADS, default all cores)
// openblas-split: rows split between 2 pthreads, each a 1-thread OpenBLAS call (BLAS.gemmSplittingRows)
// dnnl:           one call, oneDNN's own OpenMP threads (OMP_NUM_THREADS, default all cores)
// dnnl-split:     rows split between 2 pthreads, each a 1-thread oneDNN call
// -kn (suffix):   the weight stored [k, n] (C = A · W, no transpose) instead of [n, k]
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The four products of a transformer block of width w: qkv (3w x w), out_proj (w x w), c_fc (4w x w), c_proj (w x 4w).
static const int widths[] = {768, 896, 1024};
static const int rows[][3] = {  // per width: row counts ClipAD issues (0: none)
    {34, 197, 1576}, {226, 1808, 0}, {577, 1370, 0},
};

typedef struct { const char *mode; int m, n, k, lo, hi; const float *a, *w; float *c; } job;

static void gemm_rows(const job *j) {
    int rows = j->hi - j->lo;
    const float *a = j->a + (size_t)j->lo * j->k;
    float *c = j->c + (size_t)j->lo * j->n;
    int kn = strstr(j->mode, "-kn") != NULL;  // weight stored [k, n]: the untransposed product A · W
    if (strncmp(j->mode, "openblas", 8) == 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, kn ? CblasNoTrans : CblasTrans, rows, j->n, j->k, 1, a, j->k, j->w,
                    kn ? j->n : j->k, 0, c, j->n);
    else
        dnnl_sgemm('N', kn ? 'N' : 'T', rows, j->n, j->k, 1, a, j->k, j->w, kn ? j->n : j->k, 0, c, j->n);
}

static void *worker(void *p) {
    omp_set_num_threads(1);  // per-thread setting: this pthread's oneDNN call runs on it alone
    gemm_rows(p);
    return NULL;
}

static void run(const char *mode, int m, int n, int k, const float *a, const float *w, float *c) {
    if (strstr(mode, "split") == NULL) {
        job j = {mode, m, n, k, 0, m, a, w, c};
        gemm_rows(&j);
        return;
    }
    job j[2] = {{mode, m, n, k, 0, m / 2, a, w, c}, {mode, m, n, k, m / 2, m, a, w, c}};
    pthread_t t;
    pthread_create(&t, NULL, worker, &j[1]);
    worker(&j[0]);
    pthread_join(t, NULL);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "openblas";
    int reps = argc > 2 ? atoi(argv[2]) : 9;
    if (strstr(mode, "split")) openblas_set_num_threads(1);
    printf("%s (%s)", mode, strncmp(mode, "openblas", 8) == 0 ? openblas_get_config() : "oneDNN");
    if (strncmp(mode, "dnnl", 4) == 0) {
        const dnnl_version_t *v = dnnl_version();
        printf(" %d.%d.%d", v->major, v->minor, v->patch);
    }
    printf("\n");
    enum { max_shapes = 64 };
    int shapes[max_shapes][3], count = 0;
    if (argc - 3 > max_shapes) {
        fprintf(stderr, "at most %d shapes, got %d\n", max_shapes, argc - 3);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (sscanf(argv[i], "%dx%dx%d", &shapes[count][0], &shapes[count][1], &shapes[count][2]) != 3 ||
            shapes[count][0] < 1 || shapes[count][1] < 1 || shapes[count][2] < 1) {
            fprintf(stderr, "%s: not a shape MxNxK of positive sizes\n", argv[i]);
            return 2;
        }
        count++;
    }
    if (count == 0) {
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            int w = widths[wi];
            for (size_t ri = 0; ri < sizeof rows[0] / sizeof rows[0][0] && rows[wi][ri] > 0; ri++) {
                int products[4][2] = {{3 * w, w}, {w, w}, {4 * w, w}, {w, 4 * w}};
                for (int p = 0; p < 4; p++) {
                    shapes[count][0] = rows[wi][ri]; shapes[count][1] = products[p][0]; shapes[count][2] = products[p][1];
                    count++;
                }
            }
        }
    }
    for (int s = 0; s < count; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 2654435761u) % 1000) / 1000 - 0.5f;
        for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (float)((i * 40503u) % 1000) / 1000 - 0.5f;
        double t[100];
        int r = reps < 100 ? reps : 100;
        run(mode, m, n, k, a, w, c);
        run(mode, m, n, k, a, w, c);
        for (int i = 0; i < r; i++) {
            double start = now();
            run(mode, m, n, k, a, w, c);
            t[i] = now() - start;
        }
        qsort(t, r, sizeof t[0], compare);
        printf("%dx%dx%d %.1f GFLOP/s (median of %d; min %.4f s)\n", m, n, k, 2.0 * m * n * k / t[r / 2] / 1e9, r, t[0]);
        free(a); free(w); free(c);
    }
    return 0;
}
