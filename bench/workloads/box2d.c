/* box2d: a rigid-body physics step in the spirit of the Box2D benchmark
 * CheerpX publishes: circles fall under gravity into a box, a uniform grid
 * finds touching pairs, and a sequential-impulse solver (restitution,
 * friction, several iterations per step) resolves the contacts, all in
 * single precision like Box2D (x87 when built with gcc -m32). Prints a
 * hash of the final positions' bits, so any difference in rounding shows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODIES 600
#define RADIUS 0.5f
#define WIDTH 40.0f
#define CELL 1.0f
#define GRID_W 40
#define GRID_H 64
#define ITERATIONS 8

struct body {
	float x, y, vx, vy, w, angle, inv_mass, inv_inertia;
};

struct contact {
	int a, b;
	float nx, ny, depth, pn, pt;
};

static struct body bodies[BODIES];
static struct contact contacts[BODIES * 8];
static int ncontacts;
static int cell_head[GRID_W * GRID_H], next_in_cell[BODIES];

static unsigned rng = 12345;
static float frand(void)
{
	rng = rng * 1103515245u + 12345u;
	return (float)((rng >> 8) & 0xffff) / 65536.0f;
}

static int cell_of(float x, float y, int *cx, int *cy)
{
	*cx = (int)(x / CELL);
	*cy = (int)(y / CELL);
	if (*cx < 0) *cx = 0;
	if (*cx >= GRID_W) *cx = GRID_W - 1;
	if (*cy < 0) *cy = 0;
	if (*cy >= GRID_H) *cy = GRID_H - 1;
	return *cy * GRID_W + *cx;
}

static void add_contact(int a, int b)
{
	float dx = bodies[b].x - bodies[a].x, dy = bodies[b].y - bodies[a].y;
	float d2 = dx * dx + dy * dy;
	if (d2 >= 4 * RADIUS * RADIUS || d2 == 0.0f)
		return;
	float d = sqrtf(d2);
	struct contact *c = &contacts[ncontacts++];
	c->a = a;
	c->b = b;
	c->nx = dx / d;
	c->ny = dy / d;
	c->depth = 2 * RADIUS - d;
	c->pn = c->pt = 0;
}

static void broadphase(void)
{
	int cx, cy;
	memset(cell_head, -1, sizeof cell_head);
	for (int i = 0; i < BODIES; i++) {
		int c = cell_of(bodies[i].x, bodies[i].y, &cx, &cy);
		next_in_cell[i] = cell_head[c];
		cell_head[c] = i;
	}
	ncontacts = 0;
	for (int i = 0; i < BODIES; i++) {
		cell_of(bodies[i].x, bodies[i].y, &cx, &cy);
		for (int y = cy - 1; y <= cy + 1; y++)
			for (int x = cx - 1; x <= cx + 1; x++) {
				if (x < 0 || y < 0 || x >= GRID_W || y >= GRID_H)
					continue;
				for (int j = cell_head[y * GRID_W + x]; j >= 0; j = next_in_cell[j])
					if (j > i)
						add_contact(i, j);
			}
	}
}

static void solve_contact(struct contact *c, float dt)
{
	struct body *a = &bodies[c->a], *b = &bodies[c->b];
	float tx = -c->ny, ty = c->nx;
	float rvx = b->vx - a->vx - RADIUS * (b->w + a->w) * tx;
	float rvy = b->vy - a->vy - RADIUS * (b->w + a->w) * ty;
	float vn = rvx * c->nx + rvy * c->ny;
	float bias = 0.2f / dt * fmaxf(c->depth - 0.01f, 0.0f);
	float m = a->inv_mass + b->inv_mass;
	float dpn = (-vn * 1.1f + bias) / m;
	float pn = fmaxf(c->pn + dpn, 0.0f);
	dpn = pn - c->pn;
	c->pn = pn;
	float vt = rvx * tx + rvy * ty;
	float mt = m + RADIUS * RADIUS * (a->inv_inertia + b->inv_inertia);
	float dpt = -vt / mt, maxf = 0.4f * c->pn;
	float pt = fminf(fmaxf(c->pt + dpt, -maxf), maxf);
	dpt = pt - c->pt;
	c->pt = pt;
	float px = dpn * c->nx + dpt * tx, py = dpn * c->ny + dpt * ty;
	a->vx -= px * a->inv_mass;
	a->vy -= py * a->inv_mass;
	b->vx += px * b->inv_mass;
	b->vy += py * b->inv_mass;
	a->w -= RADIUS * dpt * a->inv_inertia;
	b->w -= RADIUS * dpt * b->inv_inertia;
}

static void walls(struct body *b)
{
	if (b->y < RADIUS) {
		b->y = RADIUS;
		b->vy = -b->vy * 0.3f;
		b->vx *= 0.9f;
	}
	if (b->x < RADIUS) {
		b->x = RADIUS;
		b->vx = -b->vx * 0.3f;
	}
	if (b->x > WIDTH - RADIUS) {
		b->x = WIDTH - RADIUS;
		b->vx = -b->vx * 0.3f;
	}
}

static void step(float dt)
{
	for (int i = 0; i < BODIES; i++)
		bodies[i].vy -= 9.81f * dt;
	broadphase();
	for (int it = 0; it < ITERATIONS; it++)
		for (int k = 0; k < ncontacts; k++)
			solve_contact(&contacts[k], dt);
	for (int i = 0; i < BODIES; i++) {
		struct body *b = &bodies[i];
		b->x += b->vx * dt;
		b->y += b->vy * dt;
		b->angle += b->w * dt;
		walls(b);
	}
}

int main(int argc, char **argv)
{
	int steps = argc > 1 ? atoi(argv[1]) : 500;
	for (int i = 0; i < BODIES; i++) {
		struct body *b = &bodies[i];
		b->x = 1 + frand() * (WIDTH - 2);
		b->y = 1 + (float)i * 0.1f + frand();
		b->inv_mass = 1.0f / (0.5f + frand());
		b->inv_inertia = 2.0f * b->inv_mass / (RADIUS * RADIUS);
	}
	for (int s = 0; s < steps; s++)
		step(1.0f / 60.0f);
	unsigned long long h = 0xcbf29ce484222325ULL;
	double sx = 0, sy = 0;
	for (int i = 0; i < BODIES; i++) {
		unsigned bits[3];
		memcpy(&bits[0], &bodies[i].x, 4);
		memcpy(&bits[1], &bodies[i].y, 4);
		memcpy(&bits[2], &bodies[i].angle, 4);
		for (int k = 0; k < 3; k++) {
			h ^= bits[k];
			h *= 0x100000001b3ULL;
		}
		sx += bodies[i].x;
		sy += bodies[i].y;
	}
	printf("box2d %d steps: mean (%.4f, %.4f) bits %016llx\n", steps,
	       sx / BODIES, sy / BODIES, h);
	return 0;
}
