//! Newsroom roles, with WordPress's meanings, and what each may do.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Writes drafts; cannot publish.
    Contributor,
    /// Publishes their own articles.
    Author,
    /// All articles and comments.
    Editor,
    /// Everything: settings and users too.
    Administrator,
}

/// Something a signed-in user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Open the admin and write drafts of their own.
    WriteDrafts,
    /// Publish (or schedule) their own articles.
    PublishOwn,
    /// Edit and publish anyone's articles, pages, categories and tags.
    EditOthers,
    /// Moderate comments.
    ModerateComments,
    /// Upload to the media library.
    UploadMedia,
    /// Site settings and discussion policies.
    ManageSettings,
    /// Add users and change their roles.
    ManageUsers,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Administrator, Role::Editor, Role::Author, Role::Contributor];

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
        }
    }

    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match capability {
            WriteDrafts => true,
            PublishOwn | UploadMedia => self >= Role::Author,
            EditOthers | ModerateComments => self >= Role::Editor,
            ManageSettings | ManageUsers => self == Role::Administrator,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_mean_what_they_mean_in_wordpress() {
        use Capability::*;
        assert!(!Role::Contributor.can(PublishOwn) && Role::Contributor.can(WriteDrafts));
        assert!(Role::Author.can(PublishOwn) && !Role::Author.can(EditOthers));
        assert!(Role::Editor.can(EditOthers) && Role::Editor.can(ModerateComments) && !Role::Editor.can(ManageUsers));
        assert!(Role::Administrator.can(ManageSettings) && Role::Administrator.can(ManageUsers));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
