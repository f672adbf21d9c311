#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// pkg-config's -I makes this the openblas-pthread cblas.h (with openblas_* extensions).
#include <cblas.h>
#include <stddef.h>

// The LAPACK routines Debian's libopenblas exports (Fortran symbols; no lapack.h ships with
// libopenblas-dev). Column-major, every argument by pointer; `blasint` is OpenBLAS's integer.
// The trailing size_t are gfortran's hidden lengths of the CHARACTER arguments: routines written
// in C inside OpenBLAS ignore them, the reference-LAPACK ones may read them.

// Cholesky factorisation A = L·Lᵀ of a symmetric positive definite matrix (info > 0: not SPD).
void dpotrf_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info,
             size_t uplo_len);
// Solves A·X = B with the factor from dpotrf_.
void dpotrs_(const char *uplo, const blasint *n, const blasint *nrhs, const double *a, const blasint *lda,
             double *b, const blasint *ldb, blasint *info, size_t uplo_len);
// A⁻¹ from the factor from dpotrf_ (one triangle filled).
void dpotri_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info,
             size_t uplo_len);
// Least squares min ‖A·x − b‖ of a full-rank A by QR (info > 0: rank deficient).
void dgels_(const char *trans, const blasint *m, const blasint *n, const blasint *nrhs, double *a,
            const blasint *lda, double *b, const blasint *ldb, double *work, const blasint *lwork,
            blasint *info, size_t trans_len);
// Eigenvalues (and, with jobz 'V', eigenvectors) of a symmetric matrix, ascending.
void dsyev_(const char *jobz, const char *uplo, const blasint *n, double *a, const blasint *lda,
            double *w, double *work, const blasint *lwork, blasint *info, size_t jobz_len, size_t uplo_len);
#endif
