/* The route handlers, one group per file; the route table in routes.c lists them all. */
#ifndef GH_API_H
#define GH_API_H

#include "../http/request.h"

/* Shared helpers for handlers. */

/* Answers the user object of SPEC §2.1 with status. */
void reply_user(struct request *req, unsigned status, const struct user *u);

/* health.c */
void api_health_check(struct request *req);

/* users.c */
void api_users_register(struct request *req);
void api_users_confirm(struct request *req);
void api_users_regenerate_token(struct request *req);
void api_users_login(struct request *req);
void api_users_current_user(struct request *req);
void api_users_logout(struct request *req);

#endif
