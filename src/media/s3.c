/* The S3 media store: path-style PUT and DELETE on any S3-compatible endpoint, signed with
 * AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4). */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "media.h"

struct s3_media {
    struct media base;
    char endpoint[CONFIG_URL_MAX];
    char bucket[128];
    char sigv4[96]; /* "aws:amz:REGION:s3" */
    char access_key[128];
    char secret_key[128];
    char public_url[CONFIG_URL_MAX];
};

/* Sends one signed request; GH_OK when S3 answered with one of the accepted statuses. */
static gh_status s3_request(struct s3_media *s, const char *method, const char *key,
                            const void *data, size_t len, const char *content_type,
                            long accept_also)
{
    char url[CONFIG_URL_MAX + 384], sha_hdr[96], type_hdr[128], curl_err[CURL_ERROR_SIZE] = "";
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    struct curl_slist *headers = NULL;
    gh_status st = GH_UNAVAILABLE;
    long status = 0;
    CURL *curl = curl_easy_init();
    if (!curl)
        return GH_NO_MEMORY;
    snprintf(url, sizeof url, "%s/%s/%s", s->endpoint, s->bucket, key);
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    /* curl 7.88 signs the payload hash only when the header is given explicitly. */
    snprintf(sha_hdr, sizeof sha_hdr, "x-amz-content-sha256: %s", hex);
    headers = curl_slist_append(headers, sha_hdr);
    if (content_type) {
        snprintf(type_hdr, sizeof type_hdr, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, type_hdr);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (len || !strcmp(method, "PUT")) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(curl, CURLOPT_USERNAME, s->access_key);
    curl_easy_setopt(curl, CURLOPT_PASSWORD, s->secret_key);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && ((status >= 200 && status < 300) || status == accept_also))
        st = GH_OK;
    else
        log_msg(LOG_ERROR, "s3 %s %s failed: %s", method, key,
                rc != CURLE_OK ? (curl_err[0] ? curl_err : curl_easy_strerror(rc))
                               : (status == 403 ? "HTTP 403 (check the S3 keys)" : "HTTP error"));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return st;
}

static gh_status s3_put(struct media *m, const char *key, const void *data, size_t len,
                        const char *content_type)
{
    if (!media_key_is_safe(key))
        return GH_INTERNAL;
    return s3_request((struct s3_media *)m, "PUT", key, data, len, content_type, 0);
}

static gh_status s3_remove(struct media *m, const char *key)
{
    if (!media_key_is_safe(key))
        return GH_INTERNAL;
    return s3_request((struct s3_media *)m, "DELETE", key, "", 0, NULL, 404);
}

static void s3_url(struct media *m, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", ((struct s3_media *)m)->public_url, key);
}

static void s3_close(struct media *m)
{
    struct s3_media *s = (struct s3_media *)m;
    if (s)
        sodium_memzero(s->secret_key, sizeof s->secret_key);
    free(s);
}

gh_status media_s3_open(const struct config *cfg, struct media **out)
{
    struct s3_media *s = calloc(1, sizeof *s);
    if (!s)
        return GH_NO_MEMORY;
    const char *bucket = cfg->media_url + 5;
    if (strlen(bucket) >= sizeof s->bucket) {
        free(s);
        return GH_INTERNAL;
    }
    strcpy(s->endpoint, cfg->s3_endpoint);
    strcpy(s->bucket, bucket);
    strcpy(s->public_url, cfg->s3_public_url);
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", cfg->s3_region);
    strcpy(s->access_key, cfg->s3_access_key);
    strcpy(s->secret_key, cfg->s3_secret_key);
    s->base = (struct media){
        .put = s3_put, .remove = s3_remove, .url = s3_url, .close = s3_close, .local_dir = NULL};
    *out = &s->base;
    return GH_OK;
}
