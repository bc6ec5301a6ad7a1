//! A learning comment-spam classifier (work in progress).
