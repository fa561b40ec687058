/** Where the mail store's file system is mounted on the active node (every store backend, every mail service). */
export const MAIL_STORE = '/srv/mail';
