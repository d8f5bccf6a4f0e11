export function UserList({ users, me, onPick }: { users: string[]; me: string; onPick?: (user: string) => void }) {
  return (
    <aside className="users" aria-label="Online users">
      <h2 className="users-title">
        Online <span className="users-count" data-testid="user-count">{users.length}</span>
      </h2>
      <ul data-testid="user-list">
        {users.map((u) => (
          <li key={u} data-testid="user" data-user={u} className={u === me ? 'user user-me' : 'user'}>
            {u === me || !onPick ? (
              <span className="user-name">
                {u}
                {u === me ? ' (you)' : ''}
              </span>
            ) : (
              <button type="button" className="link-button" aria-label={`Send a direct message to ${u}`} onClick={() => onPick(u)}>
                {u}
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
